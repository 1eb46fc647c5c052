<#
.SYNOPSIS
Reads calendars from classic Outlook through its COM object model and prints one JSON document.

.DESCRIPTION
The calsync agent runs this script on a Windows PC with
    powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File outlook.ps1 ...
under Windows PowerShell 5.1 or PowerShell 7. Whatever happens, it writes exactly one JSON
document to stdout as UTF-8 bytes: the shapes are the zod schemas of agent/outlook/output.ts
(`OutlookReadOutput`, `OutlookListOutput`), keys in snake_case. A failure prints
{"ok": false, "error": {"code", "message", "calendars"?}} and exits with 1.

Decisions that are easy to get wrong, and why they are made this way:

- The window filter is a DASL restriction on urn:schemas:calendar:dtstart/dtend. DASL compares
  those properties in UTC, so the instants are written in UTC as 'yyyy-MM-dd HH:mm' with the
  invariant culture: year first, 24-hour clock, no seconds (Outlook ignores or rejects seconds
  in date comparisons), no 'T' or 'Z' (its date parser does not take them). A four-digit year
  first is read the same way in every regional setting, whereas a Jet filter such as
  [Start] >= '03/04/2026' is read in the PC's locale and silently selects the wrong days on a
  non-US machine. The window is widened to whole minutes; the exact overlap is checked again
  on StartUTC/EndUTC of each item.
- Recurring series come expanded by Items.IncludeRecurrences. Such a collection has no usable
  Count (it can be endless), so it is walked with GetFirst/GetNext, stops past the window and
  gives up after $MaxOccurrences occurrences: returning a truncated list would make the master
  delete the occurrences left out, so reaching the cap is an error.
- The original start (recurrence id) of an occurrence (RecurrenceState 2) is its own start: an
  occurrence that was never changed sits where the pattern puts it. An exception
  (RecurrenceState 3) was moved or changed: its original start is the OriginalDate of the
  matching Exception in the series' RecurrencePattern.Exceptions, matched on the exception's
  current start. OriginalDate is local time and is converted to UTC here.
- Outlook is never shown and never closed under the user: when an OUTLOOK process of this
  Windows session exists before the script starts, the script only attaches to it. Otherwise
  the COM call starts a hidden Outlook, which the script quits at the end unless the user has
  opened a window of it in the meantime. Every COM reference is released in a finally block.

.PARAMETER Mode
'read' prints the occurrences of one calendar inside the window; 'list' prints every calendar.

.PARAMETER CalendarName
A calendar's display name, or its folder path such as \\john@corp.example\Calendar\Team; empty
means the default calendar (whatever its localized name).

.PARAMETER Owner
Name or address of another person whose shared calendar is read (GetSharedDefaultFolder). With
a CalendarName, that calendar is looked for under the owner's calendar.

.PARAMETER StartUtc
Start of the window, an ISO 8601 instant such as 2026-03-01T00:00:00Z (read mode).

.PARAMETER EndUtc
End of the window, exclusive (read mode).

.PARAMETER IncludeBody
Reads each item's body; without it, body is null (Body is also a property Outlook's security
guard watches).
#>
[CmdletBinding()]
param(
    # Plain strings rather than ValidateSet or [datetime]: a binding error would print
    # PowerShell's own text instead of the JSON document the agent expects.
    [string] $Mode = 'read',
    [string] $CalendarName = '',
    [string] $Owner = '',
    [string] $StartUtc = '',
    [string] $EndUtc = '',
    [switch] $IncludeBody
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
# The console host writes warnings and progress to stdout, where only the JSON document may go.
$WarningPreference = 'SilentlyContinue'
$ProgressPreference = 'SilentlyContinue'

# Outlook's enumerations, by value: the script must not depend on an interop assembly.
$script:OlFolderCalendar = 9           # OlDefaultFolders.olFolderCalendar
$script:OlAppointmentItem = 1          # OlItemType.olAppointmentItem, a folder's DefaultItemType
$script:OlAppointmentClass = 26        # OlObjectClass.olAppointment
$script:OlApptOccurrence = 2           # OlRecurrenceState
$script:OlApptException = 3
$script:OlExchangePublicFolder = 2     # OlExchangeStoreType
$script:OlExchangeUserEntryTypes = @(0, 5) # olExchangeUserAddressEntry, olExchangeRemoteUserAddressEntry
# Outlook's "no date" value (1 January 4501) stands for an empty date property.
$script:OutlookNoDate = [DateTime]::new(4501, 1, 1)
$script:MaxOccurrences = 50000
$script:PrMailboxOwnerName = 'http://schemas.microsoft.com/mapi/proptag/0x661C001F'
$script:Invariant = [System.Globalization.CultureInfo]::InvariantCulture

$script:NotInstalledMessage = 'Outlook is not installed on this PC: the COM class Outlook.Application is not registered. Install classic Outlook for Windows (Microsoft 365 Apps or Office); the new Outlook for Windows has no COM interface.'
$script:AccessDeniedMessage = 'Outlook refused programmatic access (0x{0}): its security prompt was denied or is set to deny. In Outlook, allow it under File > Options > Trust Center > Trust Center Settings > Programmatic Access (administrator rights needed), or keep the antivirus up to date and reported by Windows Security, which makes Outlook trust local programs.'
$script:NameNotFoundMessage = "No calendar named '{0}' in Outlook. Set calendar_name to the name or the path of one of the calendars listed."
$script:PathNotFoundMessage = "No calendar with the path '{0}' in Outlook. Set calendar_name to the name or the path of one of the calendars listed."
$script:AmbiguousNameMessage = "'{0}' names {1} calendars. Set calendar_name to the path of one of the calendars listed."

# Set once Outlook is reached; read by the functions below.
$script:Namespace = $null
$script:DefaultEntryId = ''
# Stores the walk could not open, named in a calendar_not_found message.
$script:SkippedStores = [System.Collections.Generic.List[string]]::new()
# Per series (EntryID of its master): current start of each exception -> its original start.
$script:ExceptionStarts = @{}
# Exchange address -> SMTP address: one address-book lookup per person, not per occurrence.
$script:SmtpAddresses = @{}

function Remove-ComReference {
    <# Drops this script's reference to a COM object so that Outlook can free it. #>
    param([object] $ComObject)
    if ($null -ne $ComObject -and [System.Runtime.InteropServices.Marshal]::IsComObject($ComObject)) {
        [void][System.Runtime.InteropServices.Marshal]::ReleaseComObject($ComObject)
    }
}

function New-Failure {
    <# An exception that carries the error code (and the calendars) of the JSON failure. #>
    param([string] $Code, [string] $Message, [object] $Calendars = $null)
    $exception = [System.Exception]::new($Message)
    $exception.Data['calsync_code'] = $Code
    if ($null -ne $Calendars) {
        $exception.Data['calsync_calendars'] = $Calendars
    }
    return $exception
}

function Get-HResultChain {
    <# The HRESULTs of an exception and of its inner exceptions, as 8 hex digits. #>
    param([System.Exception] $Exception)
    # PowerShell wraps a COMException in MethodInvocationException or
    # GetValueInvocationException, so the HRESULT of interest may sit at any depth. Compared as
    # hex text: HResult is a signed Int32, and PowerShell versions do not all type a 0x8xxxxxxx
    # literal the same way.
    $current = $Exception
    while ($null -ne $current) {
        '{0:X8}' -f $current.HResult
        $current = $current.InnerException
    }
}

function Get-AccessDeniedCode {
    <# The HRESULT that says Outlook's object-model guard refused us, or '' when it did not. #>
    param([System.Exception] $Exception)
    # E_ABORT when the user answered the security prompt with Deny, E_ACCESSDENIED when the
    # guard is set to deny automatically.
    foreach ($code in @(Get-HResultChain $Exception)) {
        if ($code -eq '80004004' -or $code -eq '80070005') {
            return $code
        }
    }
    return ''
}

function Format-UtcInstant {
    <# A UTC DateTime as the contract's instant, 2026-03-29T08:00:00Z. #>
    param([DateTime] $Utc)
    return $Utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", $script:Invariant)
}

function ConvertTo-UtcInstant {
    <# A local DateTime from Outlook as a UTC instant, or $null for Outlook's "no date". #>
    param([DateTime] $Local)
    if ($Local -ge $script:OutlookNoDate) {
        return $null
    }
    # COM hands dates over without a kind; Outlook's object model gives local times except in
    # the *UTC properties.
    return Format-UtcInstant ([DateTime]::SpecifyKind($Local, [DateTimeKind]::Local).ToUniversalTime())
}

function ConvertFrom-Instant {
    <# Parses an ISO 8601 instant parameter into a UTC DateTime, or fails naming the parameter. #>
    param([string] $Text, [string] $Name)
    $formats = [string[]]@("yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK")
    $parsed = [DateTimeOffset]::MinValue
    $ok = [DateTimeOffset]::TryParseExact(
        $Text, $formats, $script:Invariant, [System.Globalization.DateTimeStyles]::None, [ref] $parsed)
    if (-not $ok) {
        throw (New-Failure 'failed' ("-{0}: expected an ISO 8601 instant such as 2026-03-29T08:00:00Z, got '{1}'" -f $Name, $Text))
    }
    return $parsed.UtcDateTime
}

function New-WindowFilter {
    <# The locale-independent DASL restriction for occurrences overlapping [Start, End). #>
    param([DateTime] $Start, [DateTime] $End)
    $minute = [TimeSpan]::TicksPerMinute
    $from = $Start.AddTicks(-($Start.Ticks % $minute))
    $to = $End
    if ($End.Ticks % $minute -ne 0) {
        $to = $End.AddTicks($minute - ($End.Ticks % $minute))
    }
    $format = 'yyyy-MM-dd HH:mm'
    return '@SQL="urn:schemas:calendar:dtstart" < ''{0}'' AND "urn:schemas:calendar:dtend" > ''{1}''' -f `
        $to.ToString($format, $script:Invariant), $from.ToString($format, $script:Invariant)
}

function Get-StoreInfo {
    <# A store's display name, mailbox owner and kind; empty values when $Store is $null. #>
    param([object] $Store)
    $name = ''
    $owner = ''
    $isPublic = $false
    $accessor = $null
    if ($null -ne $Store) {
        try {
            $name = [string]$Store.DisplayName
            $isPublic = ([int]$Store.ExchangeStoreType -eq $script:OlExchangePublicFolder)
            $accessor = $Store.PropertyAccessor
            $owner = [string]$accessor.GetProperty($script:PrMailboxOwnerName)
        } catch {
            # PST files and IMAP accounts have no mailbox owner property; the owner stays empty.
            $owner = ''
        } finally {
            Remove-ComReference $accessor
        }
    }
    return [pscustomobject]@{ Name = $name; Owner = $owner; IsPublic = $isPublic }
}

function Get-FolderStoreInfo {
    <# Get-StoreInfo for the store that holds a folder. #>
    param([object] $Folder)
    $store = $null
    try {
        $store = $Folder.Store
    } catch {
        # A shared calendar opened online (not cached) may not expose its store.
        $store = $null
    }
    try {
        return Get-StoreInfo $store
    } finally {
        Remove-ComReference $store
    }
}

function New-CalendarEntry {
    <# A calendar folder as the contract's OutlookCalendar, with the ids to open it again. #>
    param([object] $Folder, [object] $StoreInfo, [string] $FolderOwner)
    $items = $null
    try {
        $items = $Folder.Items
        $entryId = [string]$Folder.EntryID
        $record = [ordered]@{
            name = [string]$Folder.Name
            path = [string]$Folder.FolderPath
            store = [string]$StoreInfo.Name
            owner = $FolderOwner
            item_count = [int]$items.Count
            # Entry ids of one folder may differ in form (short and long term): only Outlook can
            # compare them.
            is_default = [bool]$script:Namespace.CompareEntryIDs($entryId, $script:DefaultEntryId)
        }
        return [pscustomobject]@{ Record = $record; EntryId = $entryId; StoreId = [string]$Folder.StoreID }
    } finally {
        Remove-ComReference $items
    }
}

function Add-CalendarFolder {
    <# Adds $Folder, when it holds appointments, and its calendar subfolders to $Found. #>
    param(
        [object] $Folder,
        [object] $StoreInfo,
        [string] $FolderOwner,
        [System.Collections.Generic.List[object]] $Found
    )
    if ([int]$Folder.DefaultItemType -eq $script:OlAppointmentItem) {
        $Found.Add((New-CalendarEntry -Folder $Folder -StoreInfo $StoreInfo -FolderOwner $FolderOwner))
    }
    # Calendars may be created under any folder, not only under the default calendar. Indexes
    # rather than foreach: each child is a COM object this script must release.
    $children = $null
    try {
        $children = $Folder.Folders
        for ($index = 1; $index -le $children.Count; $index++) {
            $child = $null
            try {
                $child = $children.Item($index)
                Add-CalendarFolder -Folder $child -StoreInfo $StoreInfo -FolderOwner $FolderOwner -Found $Found
            } finally {
                Remove-ComReference $child
            }
        }
    } finally {
        Remove-ComReference $children
    }
}

function Find-CalendarFolder {
    <# Every calendar folder of every store: the mailbox, added mailboxes, PST files. #>
    $found = [System.Collections.Generic.List[object]]::new()
    $stores = $null
    try {
        $stores = $script:Namespace.Stores
        for ($index = 1; $index -le $stores.Count; $index++) {
            $store = $null
            $root = $null
            $label = "store $index"
            try {
                $store = $stores.Item($index)
                $info = Get-StoreInfo $store
                $label = $info.Name
                # Public folders can hold thousands of folders, each one a server round trip.
                if ($info.IsPublic) {
                    continue
                }
                $root = $store.GetRootFolder()
                Add-CalendarFolder -Folder $root -StoreInfo $info -FolderOwner $info.Owner -Found $found
            } catch {
                if (Get-AccessDeniedCode $_.Exception) {
                    throw
                }
                # A PST on a disconnected drive or an unreachable mailbox must not hide the
                # calendars of the other stores.
                $script:SkippedStores.Add(('{0} ({1})' -f $label, $_.Exception.Message))
            } finally {
                Remove-ComReference $root
                Remove-ComReference $store
            }
        }
    } finally {
        Remove-ComReference $stores
    }
    return , $found
}

function Select-CalendarEntry {
    <# The entry whose name (or path, for a name starting with \\) is $Name, or a failure listing them all. #>
    param([System.Collections.Generic.List[object]] $Entries, [string] $Name)
    $byPath = $Name.StartsWith('\\')
    $candidates = [System.Collections.Generic.List[object]]::new()
    foreach ($entry in $Entries) {
        $key = $entry.Record['name']
        if ($byPath) {
            $key = $entry.Record['path']
        }
        if ($key -eq $Name) {
            $candidates.Add($entry)
        }
    }
    if ($candidates.Count -eq 1) {
        return $candidates[0]
    }
    # "Calendar" names the default calendar and, often, the calendar of every PST too.
    foreach ($candidate in $candidates) {
        if ($candidate.Record['is_default']) {
            return $candidate
        }
    }
    $calendars = [System.Collections.Generic.List[object]]::new()
    foreach ($entry in $Entries) {
        $calendars.Add($entry.Record)
    }
    if ($candidates.Count -gt 1) {
        $message = $script:AmbiguousNameMessage -f $Name, $candidates.Count
    } elseif ($byPath) {
        $message = $script:PathNotFoundMessage -f $Name
    } else {
        $message = $script:NameNotFoundMessage -f $Name
    }
    if ($script:SkippedStores.Count -gt 0) {
        $message += ' Stores that could not be opened: ' + ($script:SkippedStores -join '; ') + '.'
    }
    throw (New-Failure 'calendar_not_found' $message $calendars)
}

function Resolve-SharedCalendar {
    <# Another person's default calendar, or a calendar below it named $Name. #>
    param([string] $Name, [string] $OwnerName)
    $recipient = $null
    $shared = $null
    try {
        $recipient = $script:Namespace.CreateRecipient($OwnerName)
        if (-not $recipient.Resolve()) {
            throw (New-Failure 'calendar_not_found' ("Outlook could not resolve the owner '{0}' in its address books. Write the name or the address of a person Outlook knows." -f $OwnerName))
        }
        $ownerLabel = [string]$recipient.Name
        try {
            $shared = $script:Namespace.GetSharedDefaultFolder($recipient, $script:OlFolderCalendar)
        } catch {
            # Not shared with this mailbox, or the owner's server is out of reach.
            throw (New-Failure 'calendar_not_found' ("Outlook could not open the calendar of '{0}': {1} Check that {0} shares it with this mailbox." -f $OwnerName, $_.Exception.Message))
        }
        $storeInfo = Get-FolderStoreInfo $shared
        if (-not $Name) {
            $entry = New-CalendarEntry -Folder $shared -StoreInfo $storeInfo -FolderOwner $ownerLabel
            $folder = $shared
            $shared = $null
            return [pscustomobject]@{ Folder = $folder; Record = $entry.Record }
        }
        $found = [System.Collections.Generic.List[object]]::new()
        Add-CalendarFolder -Folder $shared -StoreInfo $storeInfo -FolderOwner $ownerLabel -Found $found
        $entry = Select-CalendarEntry -Entries $found -Name $Name
        $folder = $script:Namespace.GetFolderFromID($entry.EntryId, $entry.StoreId)
        return [pscustomobject]@{ Folder = $folder; Record = $entry.Record }
    } finally {
        Remove-ComReference $shared
        Remove-ComReference $recipient
    }
}

function Resolve-Calendar {
    <# The folder to read and its OutlookCalendar record. #>
    param([string] $Name, [string] $OwnerName)
    if ($OwnerName) {
        return Resolve-SharedCalendar -Name $Name -OwnerName $OwnerName
    }
    if (-not $Name) {
        # GetDefaultFolder finds the calendar whatever its localized name (Kalender, Agenda...).
        $folder = $script:Namespace.GetDefaultFolder($script:OlFolderCalendar)
        $storeInfo = Get-FolderStoreInfo $folder
        $entry = New-CalendarEntry -Folder $folder -StoreInfo $storeInfo -FolderOwner $storeInfo.Owner
        return [pscustomobject]@{ Folder = $folder; Record = $entry.Record }
    }
    $entry = Select-CalendarEntry -Entries (Find-CalendarFolder) -Name $Name
    $folder = $script:Namespace.GetFolderFromID($entry.EntryId, $entry.StoreId)
    return [pscustomobject]@{ Folder = $folder; Record = $entry.Record }
}

function Get-TimeZoneId {
    <# The Windows zone id of an item's StartTimeZone or EndTimeZone, '' when it has none. #>
    param([object] $Item, [string] $PropertyName)
    $zone = $null
    try {
        $zone = $Item.$PropertyName
        if ($null -eq $zone) {
            return ''
        }
        return [string]$zone.ID
    } catch {
        # Items written by old clients or imported into a PST may carry no zone definition,
        # and reading it then throws.
        return ''
    } finally {
        Remove-ComReference $zone
    }
}

function Get-SmtpAddress {
    <# A recipient's SMTP address; Exchange users otherwise show an X.500 address. #>
    param([object] $Recipient)
    $address = [string]$Recipient.Address
    if ($script:SmtpAddresses.ContainsKey($address)) {
        return $script:SmtpAddresses[$address]
    }
    $smtp = $address
    $entry = $null
    $user = $null
    try {
        $entry = $Recipient.AddressEntry
        if ($null -ne $entry -and $script:OlExchangeUserEntryTypes -contains [int]$entry.AddressEntryUserType) {
            $user = $entry.GetExchangeUser()
            if ($null -ne $user -and [string]$user.PrimarySmtpAddress) {
                $smtp = [string]$user.PrimarySmtpAddress
            }
        }
    } catch {
        if (Get-AccessDeniedCode $_.Exception) {
            throw
        }
        # The address book is out of reach (offline, a deleted user): the Exchange address
        # still identifies the person.
        $smtp = $address
    } finally {
        Remove-ComReference $user
        Remove-ComReference $entry
    }
    $script:SmtpAddresses[$address] = $smtp
    return $smtp
}

function Get-Attendee {
    <# An item's recipients as OutlookAttendee records. #>
    param([object] $Item)
    $attendees = [System.Collections.Generic.List[object]]::new()
    $recipients = $null
    try {
        $recipients = $Item.Recipients
        for ($index = 1; $index -le $recipients.Count; $index++) {
            $recipient = $null
            try {
                $recipient = $recipients.Item($index)
                $attendees.Add([ordered]@{
                        name = [string]$recipient.Name
                        address = Get-SmtpAddress $recipient
                        type = [int]$recipient.Type
                        response = [int]$recipient.MeetingResponseStatus
                    })
            } finally {
                Remove-ComReference $recipient
            }
        }
    } finally {
        Remove-ComReference $recipients
    }
    return , $attendees
}

function Get-ExceptionStart {
    <# For one series: the current start of each exception -> its original start, as UTC instants. #>
    param([object] $Item)
    $starts = @{}
    $pattern = $null
    $exceptions = $null
    try {
        # An occurrence hands out the pattern of its series, with the series' exceptions.
        $pattern = $Item.GetRecurrencePattern()
        $exceptions = $pattern.Exceptions
        for ($index = 1; $index -le $exceptions.Count; $index++) {
            $exception = $null
            $moved = $null
            try {
                $exception = $exceptions.Item($index)
                # A deleted occurrence has no AppointmentItem, and is not in the calendar anyway.
                if (-not $exception.Deleted) {
                    $moved = $exception.AppointmentItem
                    $starts[(Format-UtcInstant $moved.StartUTC)] = ConvertTo-UtcInstant $exception.OriginalDate
                }
            } finally {
                Remove-ComReference $moved
                Remove-ComReference $exception
            }
        }
    } catch {
        if (Get-AccessDeniedCode $_.Exception) {
            throw
        }
        # A damaged series must not stop the whole calendar: its exceptions then have no
        # original start, which the agent reports.
        $starts = @{}
    } finally {
        Remove-ComReference $exceptions
        Remove-ComReference $pattern
    }
    return $starts
}

function Get-OriginalStart {
    <# The start an occurrence has in its series' pattern, $null for a single appointment. #>
    param([object] $Item, [int] $State, [string] $Start)
    if ($State -eq $script:OlApptOccurrence) {
        return $Start
    }
    if ($State -ne $script:OlApptException) {
        return $null
    }
    # Occurrences and exceptions carry the EntryID of their series' master.
    $series = [string]$Item.EntryID
    if (-not $script:ExceptionStarts.ContainsKey($series)) {
        $script:ExceptionStarts[$series] = Get-ExceptionStart $Item
    }
    $starts = $script:ExceptionStarts[$series]
    if ($starts.ContainsKey($Start)) {
        return $starts[$Start]
    }
    return $null
}

function Split-Category {
    <# Outlook's Categories text as a list; the separator is the PC's list separator. #>
    param([string] $Text)
    $categories = [System.Collections.Generic.List[object]]::new()
    foreach ($part in ($Text -split '[,;]')) {
        $name = $part.Trim()
        if ($name) {
            $categories.Add($name)
        }
    }
    return , $categories
}

function ConvertTo-OccurrenceRecord {
    <# One appointment or occurrence as the contract's OutlookItem. #>
    param([object] $Item, [bool] $WithBody)
    $entryId = [string]$Item.EntryID
    $appointmentId = [string]$Item.GlobalAppointmentID
    if (-not $appointmentId) {
        # An appointment without a global id (some PST and IMAP calendars) still needs an
        # identity, and its EntryID is stable.
        $appointmentId = $entryId
    }
    $start = Format-UtcInstant $Item.StartUTC
    $state = [int]$Item.RecurrenceState
    $body = $null
    if ($WithBody) {
        $body = [string]$Item.Body
    }
    return [ordered]@{
        global_appointment_id = $appointmentId
        entry_id = $entryId
        start_utc = $start
        end_utc = Format-UtcInstant $Item.EndUTC
        start_time_zone = Get-TimeZoneId $Item 'StartTimeZone'
        end_time_zone = Get-TimeZoneId $Item 'EndTimeZone'
        all_day = [bool]$Item.AllDayEvent
        subject = [string]$Item.Subject
        location = [string]$Item.Location
        body = $body
        busy_status = [int]$Item.BusyStatus
        sensitivity = [int]$Item.Sensitivity
        categories = (Split-Category ([string]$Item.Categories)).ToArray()
        meeting_status = [int]$Item.MeetingStatus
        response_status = [int]$Item.ResponseStatus
        organizer = [string]$Item.Organizer
        attendees = (Get-Attendee $Item).ToArray()
        last_modification_utc = ConvertTo-UtcInstant $Item.LastModificationTime
        recurrence_state = $state
        original_start_utc = Get-OriginalStart -Item $Item -State $state -Start $start
    }
}

function Read-Occurrence {
    <# Every occurrence in $Folder that overlaps [$WindowStart, $WindowEnd), sorted by start. #>
    param([object] $Folder, [DateTime] $WindowStart, [DateTime] $WindowEnd, [bool] $WithBody)
    $occurrences = [System.Collections.Generic.List[object]]::new()
    $items = $null
    $window = $null
    $item = $null
    try {
        $items = $Folder.Items
        # The order matters: IncludeRecurrences only expands series in a collection sorted on
        # [Start], and Restrict must come last to inherit both.
        $items.Sort('[Start]')
        $items.IncludeRecurrences = $true
        $window = $items.Restrict((New-WindowFilter -Start $WindowStart -End $WindowEnd))
        $seen = 0
        $item = $window.GetFirst()
        while ($null -ne $item) {
            $seen++
            if ($seen -gt $script:MaxOccurrences) {
                throw (New-Failure 'failed' ('More than {0} occurrences in the window: a recurring series may have no end. Shorten sync_window.' -f $script:MaxOccurrences))
            }
            # A calendar may also hold posts or copied messages, which have no StartUTC.
            if ([int]$item.Class -eq $script:OlAppointmentClass) {
                $start = [DateTime]$item.StartUTC
                if ($start -ge $WindowEnd) {
                    break
                }
                # The filter works on whole minutes: the exact overlap is checked here.
                if ([DateTime]$item.EndUTC -gt $WindowStart) {
                    $occurrences.Add((ConvertTo-OccurrenceRecord -Item $item -WithBody $WithBody))
                }
            }
            Remove-ComReference $item
            $item = $null
            $item = $window.GetNext()
        }
    } finally {
        Remove-ComReference $item
        Remove-ComReference $window
        Remove-ComReference $items
    }
    return , $occurrences
}

function Get-CalendarList {
    <# Every calendar folder, plus the shared calendar of -Owner when one is given. #>
    param([string] $OwnerName)
    $entries = Find-CalendarFolder
    if ($OwnerName) {
        $shared = Resolve-SharedCalendar -Name '' -OwnerName $OwnerName
        Remove-ComReference $shared.Folder
        $entries.Add($shared)
    }
    $calendars = [System.Collections.Generic.List[object]]::new()
    foreach ($entry in $entries) {
        $calendars.Add($entry.Record)
    }
    return , $calendars
}

function Test-OutlookRunning {
    <# Whether Outlook runs in this Windows session, before this script touches COM. #>
    # Another user's Outlook on the same machine (a terminal server) is not ours to attach to:
    # COM would start a separate one for us, which we must quit.
    $session = [System.Diagnostics.Process]::GetCurrentProcess().SessionId
    $running = @(Get-Process -Name 'OUTLOOK' -ErrorAction SilentlyContinue |
            Where-Object { $_.SessionId -eq $session })
    return $running.Count -gt 0
}

function Stop-StartedOutlook {
    <# Quits the hidden Outlook this script started, unless the user opened a window of it since. #>
    param([object] $Application)
    $explorers = $null
    $inspectors = $null
    try {
        $explorers = $Application.Explorers
        $inspectors = $Application.Inspectors
        if ($explorers.Count -eq 0 -and $inspectors.Count -eq 0) {
            $Application.Quit()
        }
    } catch {
        # Outlook is already gone (closed or crashed): there is nothing left to quit, and the
        # cleanup must not replace the document being printed.
        return
    } finally {
        Remove-ComReference $inspectors
        Remove-ComReference $explorers
    }
}

function ConvertTo-FailureDocument {
    <# The {"ok": false, "error": ...} document for an exception. #>
    param([System.Exception] $Exception)
    $code = 'failed'
    $message = $Exception.Message
    $calendars = $null
    $hresults = @(Get-HResultChain $Exception)
    $denied = Get-AccessDeniedCode $Exception
    if ($Exception.Data.Contains('calsync_code')) {
        $code = [string]$Exception.Data['calsync_code']
        if ($Exception.Data.Contains('calsync_calendars')) {
            $calendars = $Exception.Data['calsync_calendars']
        }
    } elseif ($hresults -contains '80040154') {
        # REGDB_E_CLASSNOTREG: the ProgID is there but its server is not.
        $code = 'outlook_not_installed'
        $message = $script:NotInstalledMessage
    } elseif ($denied) {
        $code = 'access_denied'
        $message = $script:AccessDeniedMessage -f $denied
    } elseif ($hresults -contains '80080005') {
        # CO_E_SERVER_EXEC_FAILURE: COM cannot attach an elevated Outlook to a non-elevated
        # caller, or the reverse.
        $message = 'Outlook runs with other rights than the agent (one of them as administrator?): start both the same way. ' + $message
    } elseif ($hresults -contains '80010001' -or $hresults -contains '8001010A') {
        # RPC_E_CALL_REJECTED / RPC_E_SERVERCALL_RETRYLATER: a dialog box keeps Outlook busy.
        $message = 'Outlook is busy, probably with an open dialog box; the next pass tries again. ' + $message
    }
    if ($null -ne $calendars) {
        $details = [ordered]@{ code = $code; message = $message; calendars = $calendars.ToArray() }
    } else {
        $details = [ordered]@{ code = $code; message = $message }
    }
    return [ordered]@{ ok = $false; error = $details }
}

function Write-JsonDocument {
    <# Writes the document to stdout as UTF-8 bytes, whatever the console's code page. #>
    param([System.Collections.IDictionary] $Document)
    # -InputObject, not the pipeline: piped arrays lose their brackets in Windows PowerShell.
    # Every array in the document is a plain object[] from List.ToArray() for the same reason.
    $json = ConvertTo-Json -InputObject $Document -Depth 6 -Compress
    $bytes = [System.Text.UTF8Encoding]::new($false).GetBytes($json)
    $stdout = [Console]::OpenStandardOutput()
    try {
        $stdout.Write($bytes, 0, $bytes.Length)
        $stdout.Flush()
    } finally {
        $stdout.Dispose()
    }
}

$exitCode = 0
$outlook = $null
$startedOutlook = $false
try {
    $listing = $Mode -eq 'list'
    if (-not $listing -and $Mode -ne 'read') {
        throw (New-Failure 'failed' ("-Mode must be 'read' or 'list', got '{0}'" -f $Mode))
    }
    if (-not $listing) {
        $windowStart = ConvertFrom-Instant -Text $StartUtc -Name 'StartUtc'
        $windowEnd = ConvertFrom-Instant -Text $EndUtc -Name 'EndUtc'
        if ($windowEnd -le $windowStart) {
            throw (New-Failure 'failed' ("-EndUtc ({0}) must be after -StartUtc ({1})" -f $EndUtc, $StartUtc))
        }
    }
    # New-Object -ComObject says "Cannot load COM type" for an unknown ProgID, which tells
    # nothing; the registry lookup tells that Outlook is missing.
    if ($null -eq [Type]::GetTypeFromProgID('Outlook.Application')) {
        throw (New-Failure 'outlook_not_installed' $script:NotInstalledMessage)
    }
    $startedOutlook = -not (Test-OutlookRunning)
    $outlook = New-Object -ComObject 'Outlook.Application'
    $script:Namespace = $outlook.GetNamespace('MAPI')
    if ($startedOutlook) {
        # A hidden Outlook started by COM has no session yet: log on to the default profile
        # without showing the profile dialog.
        $script:Namespace.Logon('', '', $false, $false)
    }
    $defaultFolder = $script:Namespace.GetDefaultFolder($script:OlFolderCalendar)
    try {
        $script:DefaultEntryId = [string]$defaultFolder.EntryID
    } finally {
        Remove-ComReference $defaultFolder
    }
    if ($listing) {
        $document = [ordered]@{ ok = $true; calendars = (Get-CalendarList -OwnerName $Owner).ToArray() }
    } else {
        $target = Resolve-Calendar -Name $CalendarName -OwnerName $Owner
        try {
            $occurrences = Read-Occurrence -Folder $target.Folder -WindowStart $windowStart -WindowEnd $windowEnd -WithBody $IncludeBody.IsPresent
            $document = [ordered]@{ ok = $true; calendar = $target.Record; items = $occurrences.ToArray() }
        } finally {
            Remove-ComReference $target.Folder
        }
    }
} catch {
    $document = ConvertTo-FailureDocument $_.Exception
    $exitCode = 1
} finally {
    Remove-ComReference $script:Namespace
    $script:Namespace = $null
    if ($null -ne $outlook) {
        if ($startedOutlook) {
            Stop-StartedOutlook $outlook
        }
        Remove-ComReference $outlook
        $outlook = $null
    }
    # Objects PowerShell itself still holds (pipeline temporaries) are released by their
    # finalizers; the second pass frees what the first pass's finalizers let go.
    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
    [GC]::Collect()
    [GC]::WaitForPendingFinalizers()
}
Write-JsonDocument $document
exit $exitCode
