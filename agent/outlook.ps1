<#
.SYNOPSIS
Reads calendars from classic Outlook through its COM object model and prints one JSON document.

.DESCRIPTION
The calsync agent runs this script on a Windows PC with
    powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ...
whose command sets the console's output encoding to UTF-8 and then calls this script with
its parameters splatted from a hashtable, under Windows PowerShell 5.1 or PowerShell 7. Whatever happens, it writes exactly one JSON
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

.PARAMETER SkipGuarded
Reads no property Outlook's object-model guard protects (organizer, recipients, body), for
sources whose copies show only the time or the title: such a source never raises the guard's
prompt or refusal. Organizer and attendees are then empty and body is null.

.PARAMETER EntryId
With -StoreId, the folder a previous read resolved -CalendarName to. When it still is a
calendar with that name or path it is opened directly, without walking every folder of every
store; otherwise the name is looked up again and the new ids are returned.

.PARAMETER StoreId
The store of -EntryId.

.PARAMETER DeadlineSeconds
Seconds after which a watchdog stops the hidden Outlook this script started, should a call
into it never return (a dialog nobody sees); the read then fails with 'timeout' before the
agent gives up on the script. Empty or 0: no watchdog.

.PARAMETER SyncSeconds
When the script started Outlook itself and the calendar is in a cached Exchange store, how
long at most to let Outlook fetch the calendar's changes from the server before reading.
Empty or 0: read the cache as it is.
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
    [switch] $IncludeBody,
    [switch] $SkipGuarded,
    [string] $EntryId = '',
    [string] $StoreId = '',
    [string] $DeadlineSeconds = '',
    [string] $SyncSeconds = ''
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
$script:OlModuleCalendar = 1          # OlNavigationModuleType.olModuleCalendar
# HRESULTs with which Outlook's object-model guard refuses a protected property, and what each
# means. "Outlook Object Model Security Warnings": when the user clicks Deny, Outlook blocks the
# call and returns MAPI_E_NOT_SUPPORTED. A guard set to deny without asking fails the call with
# E_ACCESSDENIED or E_ABORT.
$script:GuardRefusals = @{
    '80040102' = 'its security prompt was answered Deny'
    '80070005' = 'it is set to deny programmatic access without asking'
    '80004004' = 'it is set to deny programmatic access without asking'
}
$script:GuardRefusalMessage = 'Outlook refused to let the agent read {0} (HRESULT 0x{1}): {2}. In Outlook, allow it under File > Options > Trust Center > Trust Center Settings > Programmatic Access (administrator rights needed), or keep the antivirus up to date and reported by Windows Security, which makes Outlook trust local programs. A source with privacy "busy" or "title" reads nothing the guard protects.'
$script:PermissionDeniedMessage = 'Access was denied (HRESULT 0x{0}) while {1}: this Outlook profile has no permission there. For a colleague''s calendar, ask them to share it with this mailbox (at least "Can view all details") and open it once in Outlook; for an added mailbox or archive, an Exchange administrator grants the permission.'
$script:TimeoutMessage = 'Outlook gave no answer for {0} s while {1}; the hidden Outlook this read had started was stopped, so the next pass starts a fresh one. A dialog nobody could see (a profile choice, a password prompt, the security prompt) is the usual cause.'
$script:NameNotFoundMessage = "No calendar named '{0}' in Outlook. Set calendar_name to the name or the path of one of the calendars listed."
$script:PathNotFoundMessage = "No calendar with the path '{0}' in Outlook. Set calendar_name to the name or the path of one of the calendars listed."
$script:AmbiguousNameMessage = "'{0}' names {1} calendars. Set calendar_name to the path of one of the calendars listed."

# What the script is doing, named in failure messages ("opening the calendar 'Team'").
$script:Step = 'starting'
# Shared with the watchdog's runspace: whether this script started Outlook, when, and
# whether the read is done or the watchdog fired.
$script:Watch = [hashtable]::Synchronized(@{ Started = $false; Done = $false; Fired = $false })
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

function Get-ComHResult {
    <# The deepest HRESULT of an exception chain that COM or Windows gave, as 8 hex digits; '' when none. #>
    param([System.Exception] $Exception)
    # .NET's own codes (facility 0x13, 0x8013xxxx) belong to the wrappers PowerShell adds and to
    # this script's own failures; the code that says what went wrong is the deepest other one.
    $found = ''
    foreach ($code in @(Get-HResultChain $Exception)) {
        if (-not $code.StartsWith('8013')) {
            $found = $code
        }
    }
    return $found
}

function Test-CalsyncFailure {
    <# Whether an exception is one of this script's own failures, which must travel up unchanged. #>
    param([System.Exception] $Exception)
    return $Exception.Data.Contains('calsync_code')
}

function Assert-NotGuardRefusal {
    <# Throws an access_denied failure when reading $What (a protected property) was refused by Outlook's guard. #>
    param([System.Exception] $Exception, [string] $What)
    if (Test-CalsyncFailure $Exception) {
        return
    }
    $code = Get-ComHResult $Exception
    if ($script:GuardRefusals.ContainsKey($code)) {
        $failure = New-Failure 'access_denied' ($script:GuardRefusalMessage -f $What, $code, $script:GuardRefusals[$code])
        $failure.Data['calsync_hresult'] = $code
        throw $failure
    }
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
            # PropertyAccessor is protected too; the owner is only shown, never needed to read.
            if (-not $SkipGuarded) {
                $accessor = $Store.PropertyAccessor
                $owner = [string]$accessor.GetProperty($script:PrMailboxOwnerName)
            }
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
    param([object] $Folder, [object] $StoreInfo, [string] $FolderOwner, [bool] $Shared = $false, [bool] $SharedDefault = $false)
    $items = $null
    try {
        $script:Step = "opening the calendar '{0}'" -f [string]$Folder.FolderPath
        $items = $Folder.Items
        $entryId = [string]$Folder.EntryID
        $storeId = [string]$Folder.StoreID
        $record = [ordered]@{
            name = [string]$Folder.Name
            path = [string]$Folder.FolderPath
            store = [string]$StoreInfo.Name
            owner = $FolderOwner
            item_count = [int]$items.Count
            # Entry ids of one folder may differ in form (short and long term): only Outlook can
            # compare them.
            is_default = [bool]$script:Namespace.CompareEntryIDs($entryId, $script:DefaultEntryId)
            # Another person's calendar, opened through sharing: read it with that owner.
            shared = $Shared
            shared_default = $SharedDefault
            entry_id = $entryId
            store_id = $storeId
        }
        return [pscustomobject]@{ Record = $record; EntryId = $entryId; StoreId = $storeId }
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
        [System.Collections.Generic.List[object]] $Found,
        [bool] $Shared = $false
    )
    if ([int]$Folder.DefaultItemType -eq $script:OlAppointmentItem) {
        $Found.Add((New-CalendarEntry -Folder $Folder -StoreInfo $StoreInfo -FolderOwner $FolderOwner -Shared $Shared))
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
                Add-CalendarFolder -Folder $child -StoreInfo $StoreInfo -FolderOwner $FolderOwner -Found $Found -Shared $Shared
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
                if (Test-CalsyncFailure $_.Exception) {
                    throw
                }
                # A PST on a disconnected drive, an unreachable mailbox or one this profile may
                # not open (E_ACCESSDENIED here is a permission, not the guard) must not hide the
                # calendars of the other stores.
                $script:SkippedStores.Add(('{0} ({1} HRESULT 0x{2})' -f $label, $_.Exception.Message, (Get-ComHResult $_.Exception)))
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
        $script:Step = "opening the calendar of '{0}'" -f $OwnerName
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
            $entry = New-CalendarEntry -Folder $shared -StoreInfo $storeInfo -FolderOwner $ownerLabel -Shared $true -SharedDefault $true
            $folder = $shared
            $shared = $null
            return [pscustomobject]@{ Folder = $folder; Record = $entry.Record }
        }
        $found = [System.Collections.Generic.List[object]]::new()
        Add-CalendarFolder -Folder $shared -StoreInfo $storeInfo -FolderOwner $ownerLabel -Found $found -Shared $true
        $entry = Select-CalendarEntry -Entries $found -Name $Name
        $folder = $script:Namespace.GetFolderFromID($entry.EntryId, $entry.StoreId)
        return [pscustomobject]@{ Folder = $folder; Record = $entry.Record }
    } finally {
        Remove-ComReference $shared
        Remove-ComReference $recipient
    }
}

function Resolve-RememberedCalendar {
    <# The folder at the ids a previous read resolved $Name to, while it still is a calendar of that name or path; $null otherwise. #>
    param([string] $Name, [string] $OwnerName, [string] $FolderEntryId, [string] $FolderStoreId)
    $folder = $null
    try {
        $script:Step = "opening the remembered calendar '{0}'" -f $Name
        $folder = $script:Namespace.GetFolderFromID($FolderEntryId, $FolderStoreId)
        $key = [string]$folder.Name
        if ($Name.StartsWith('\\')) {
            $key = [string]$folder.FolderPath
        }
        # A calendar renamed, moved or replaced since is looked up by its name again.
        if ([int]$folder.DefaultItemType -ne $script:OlAppointmentItem -or $key -ne $Name) {
            Remove-ComReference $folder
            return $null
        }
        $storeInfo = Get-FolderStoreInfo $folder
        $folderOwner = $storeInfo.Owner
        if ($OwnerName) {
            $folderOwner = $OwnerName
        }
        $entry = New-CalendarEntry -Folder $folder -StoreInfo $storeInfo -FolderOwner $folderOwner -Shared ([bool]$OwnerName)
        return [pscustomobject]@{ Folder = $folder; Record = $entry.Record }
    } catch {
        if (Test-CalsyncFailure $_.Exception) {
            throw
        }
        # Deleted, in a store no longer in the profile, or ids from another profile.
        Remove-ComReference $folder
        return $null
    }
}

function Resolve-Calendar {
    <# The folder to read and its OutlookCalendar record; $Remembered* are the ids of an earlier read. #>
    param([string] $Name, [string] $OwnerName, [string] $RememberedEntryId, [string] $RememberedStoreId)
    # Only a lookup by name walks folders; the default calendars are found directly anyway.
    if ($Name -and $RememberedEntryId -and $RememberedStoreId) {
        $remembered = Resolve-RememberedCalendar -Name $Name -OwnerName $OwnerName -FolderEntryId $RememberedEntryId -FolderStoreId $RememberedStoreId
        if ($null -ne $remembered) {
            return $remembered
        }
    }
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
        Assert-NotGuardRefusal $_.Exception 'an attendee''s address'
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
    } catch {
        Assert-NotGuardRefusal $_.Exception 'the attendees of a meeting'
        throw
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
        if (Test-CalsyncFailure $_.Exception) {
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

function Read-ProtectedField {
    <# An item's organizer, attendees and (with $WithBody) body: the properties Outlook's guard protects. #>
    param([object] $Item, [bool] $WithBody)
    $fields = @{ OrganizerName = ''; People = [object[]]@(); Description = $null }
    try {
        $fields.OrganizerName = [string]$Item.Organizer
    } catch {
        Assert-NotGuardRefusal $_.Exception 'the organizer of a meeting'
        throw
    }
    $fields.People = (Get-Attendee $Item).ToArray()
    if ($WithBody) {
        try {
            $fields.Description = [string]$Item.Body
        } catch {
            Assert-NotGuardRefusal $_.Exception 'the description of an appointment'
            throw
        }
    }
    return $fields
}

function ConvertTo-OccurrenceRecord {
    <# One appointment or occurrence as the contract's OutlookItem. #>
    param([object] $Item, [bool] $WithBody, [bool] $ReadProtected)
    $entryId = [string]$Item.EntryID
    $appointmentId = [string]$Item.GlobalAppointmentID
    if (-not $appointmentId) {
        # An appointment without a global id (some PST and IMAP calendars) still needs an
        # identity, and its EntryID is stable.
        $appointmentId = $entryId
    }
    $start = Format-UtcInstant $Item.StartUTC
    $state = [int]$Item.RecurrenceState
    # Without -ReadProtected nothing the guard watches is touched: no prompt, no refusal.
    $protected = @{ OrganizerName = ''; People = [object[]]@(); Description = $null }
    if ($ReadProtected) {
        $protected = Read-ProtectedField -Item $Item -WithBody $WithBody
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
        body = $protected.Description
        busy_status = [int]$Item.BusyStatus
        sensitivity = [int]$Item.Sensitivity
        categories = (Split-Category ([string]$Item.Categories)).ToArray()
        meeting_status = [int]$Item.MeetingStatus
        response_status = [int]$Item.ResponseStatus
        organizer = $protected.OrganizerName
        attendees = $protected.People
        last_modification_utc = ConvertTo-UtcInstant $Item.LastModificationTime
        recurrence_state = $state
        original_start_utc = Get-OriginalStart -Item $Item -State $state -Start $start
    }
}

function Read-Occurrence {
    <# Every occurrence in $Folder that overlaps [$WindowStart, $WindowEnd), sorted by start. #>
    param([object] $Folder, [DateTime] $WindowStart, [DateTime] $WindowEnd, [bool] $WithBody, [bool] $ReadProtected)
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
                    $occurrences.Add((ConvertTo-OccurrenceRecord -Item $item -WithBody $WithBody -ReadProtected $ReadProtected))
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

function Test-ListedFolder {
    <# Whether $Folder is one of the entries already found. #>
    param([object] $Folder, [System.Collections.Generic.List[object]] $Found)
    $entryId = [string]$Folder.EntryID
    foreach ($entry in $Found) {
        if ($script:Namespace.CompareEntryIDs($entryId, $entry.EntryId)) {
            return $true
        }
    }
    return $false
}

function Add-OpenedSharedCalendar {
    <# Adds the colleagues' calendars this user opened in Outlook's Calendar pane, with their owners. #>
    param([System.Collections.Generic.List[object]] $Found)
    # Calendars opened through sharing belong to no store of the profile, so only the Calendar
    # module of the navigation pane knows them. Its explorer is never shown, and is closed so
    # that a hidden Outlook this script started still counts as windowless and is quit.
    $calendar = $null
    $explorer = $null
    $pane = $null
    $modules = $null
    $module = $null
    $groups = $null
    try {
        $script:Step = 'listing the calendars opened in the Calendar pane'
        $calendar = $script:Namespace.GetDefaultFolder($script:OlFolderCalendar)
        $explorer = $calendar.GetExplorer()
        $pane = $explorer.NavigationPane
        $modules = $pane.Modules
        $module = $modules.GetNavigationModule($script:OlModuleCalendar)
        $groups = $module.NavigationGroups
        for ($g = 1; $g -le $groups.Count; $g++) {
            $group = $null
            $navigationFolders = $null
            try {
                $group = $groups.Item($g)
                $navigationFolders = $group.NavigationFolders
                for ($f = 1; $f -le $navigationFolders.Count; $f++) {
                    $navigationFolder = $null
                    $folder = $null
                    try {
                        $navigationFolder = $navigationFolders.Item($f)
                        $folder = $navigationFolder.Folder
                        if (Test-ListedFolder -Folder $folder -Found $Found) {
                            continue
                        }
                        $info = Get-FolderStoreInfo $folder
                        $owner = $info.Owner
                        if (-not $owner) {
                            $owner = [string]$navigationFolder.DisplayName
                        }
                        $isOwnerDefault = Test-SharedDefaultCalendar -Folder $folder -OwnerName $owner
                        $Found.Add((New-CalendarEntry -Folder $folder -StoreInfo $info -FolderOwner $owner -Shared $true -SharedDefault $isOwnerDefault))
                    } catch {
                        if (Test-CalsyncFailure $_.Exception) {
                            throw
                        }
                        # A calendar whose owner withdrew the sharing stays in the pane but
                        # cannot be opened; the others are still listed.
                        $script:SkippedStores.Add(('a shared calendar ({0} HRESULT 0x{1})' -f $_.Exception.Message, (Get-ComHResult $_.Exception)))
                    } finally {
                        Remove-ComReference $folder
                        Remove-ComReference $navigationFolder
                    }
                }
            } finally {
                Remove-ComReference $navigationFolders
                Remove-ComReference $group
            }
        }
    } catch {
        if (Test-CalsyncFailure $_.Exception) {
            throw
        }
        # Without a navigation pane (an Outlook too old, a profile without one) the calendars of
        # the stores are still listed.
        $script:SkippedStores.Add(('the Calendar pane ({0} HRESULT 0x{1})' -f $_.Exception.Message, (Get-ComHResult $_.Exception)))
    } finally {
        Remove-ComReference $groups
        Remove-ComReference $module
        Remove-ComReference $modules
        Remove-ComReference $pane
        if ($null -ne $explorer) {
            try {
                $explorer.Close()
            } catch {
                # Already gone with Outlook: nothing is left to close.
                Write-Verbose ('The explorer was already closed: {0}' -f $_.Exception.Message)
            }
        }
        Remove-ComReference $explorer
        Remove-ComReference $calendar
    }
}

function Test-SharedDefaultCalendar {
    <# Whether $Folder is the default calendar of $OwnerName, which an 'owner' without calendar_name reads. #>
    param([object] $Folder, [string] $OwnerName)
    $recipient = $null
    $default = $null
    try {
        $recipient = $script:Namespace.CreateRecipient($OwnerName)
        if (-not $recipient.Resolve()) {
            return $false
        }
        $default = $script:Namespace.GetSharedDefaultFolder($recipient, $script:OlFolderCalendar)
        return [bool]$script:Namespace.CompareEntryIDs([string]$Folder.EntryID, [string]$default.EntryID)
    } catch {
        if (Test-CalsyncFailure $_.Exception) {
            throw
        }
        # Only the default calendar is shared, or the owner is out of reach: the calendar is
        # then read by its name under the owner.
        return $false
    } finally {
        Remove-ComReference $default
        Remove-ComReference $recipient
    }
}

function Get-CalendarList {
    <# Every calendar folder of the stores, the shared calendars opened in Outlook, and the calendar of -Owner when one is given. #>
    param([string] $OwnerName)
    $entries = Find-CalendarFolder
    Add-OpenedSharedCalendar -Found $entries
    if ($OwnerName) {
        $shared = Resolve-SharedCalendar -Name '' -OwnerName $OwnerName
        try {
            if (-not (Test-ListedFolder -Folder $shared.Folder -Found $entries)) {
                $entries.Add($shared)
            }
        } finally {
            Remove-ComReference $shared.Folder
        }
    }
    $calendars = [System.Collections.Generic.List[object]]::new()
    foreach ($entry in $entries) {
        $calendars.Add($entry.Record)
    }
    return , $calendars
}

function Get-FolderFingerprint {
    <# The item count and newest change of a folder: what moves while Outlook fetches changes. #>
    param([object] $Folder)
    $items = $null
    $newest = $null
    try {
        $items = $Folder.Items
        $items.Sort('[LastModificationTime]', $true)
        $newest = $items.GetFirst()
        $changed = ''
        if ($null -ne $newest) {
            $changed = ([DateTime]$newest.LastModificationTime).Ticks
        }
        return '{0}|{1}' -f [int]$items.Count, $changed
    } finally {
        Remove-ComReference $newest
        Remove-ComReference $items
    }
}

function Sync-StartedOutlook {
    <# Lets a hidden Outlook this script started fetch the calendar's changes, for at most $Seconds. #>
    param([object] $Folder, [int] $Seconds)
    # A cached Exchange store holds what Outlook fetched when it last ran, possibly days ago; an
    # online store and a PST file are current already.
    $store = $null
    $cached = $true
    try {
        $store = $Folder.Store
        $cached = [bool]$store.IsCachedExchange
    } catch {
        # A shared calendar may not expose its store: let Outlook fetch it all the same.
        $cached = $true
    } finally {
        Remove-ComReference $store
    }
    if (-not $cached) {
        return
    }
    $script:Step = 'letting Outlook fetch the calendar from the server'
    # The "Application Folders" Send/Receive group fetches only the folders flagged for it, so no
    # mail waiting in the Outbox is sent, as a Send/Receive of all accounts would.
    $flagged = $true
    $syncObjects = $null
    $appFolders = $null
    try {
        $flagged = [bool]$Folder.InAppFolderSyncObject
        if (-not $flagged) {
            $Folder.InAppFolderSyncObject = $true
        }
        $syncObjects = $script:Namespace.SyncObjects
        $appFolders = $syncObjects.AppFolders
        $appFolders.Start()
        # Outlook tells the end of a synchronisation only through COM events, which a script
        # cannot sink: the folder is watched until it stops changing. A few seconds always
        # pass first, as fetching starts only once Outlook reached the server.
        $until = [DateTime]::UtcNow.AddSeconds($Seconds)
        $settleFrom = [DateTime]::UtcNow.AddSeconds([Math]::Min(5, $Seconds))
        $last = Get-FolderFingerprint $Folder
        $unchanged = 0
        while ([DateTime]::UtcNow -lt $until) {
            Start-Sleep -Seconds 1
            $current = Get-FolderFingerprint $Folder
            if ($current -ne $last) {
                $last = $current
                $unchanged = 0
            } else {
                $unchanged++
            }
            if ($unchanged -ge 3 -and [DateTime]::UtcNow -ge $settleFrom) {
                return
            }
        }
    } catch {
        if (Test-CalsyncFailure $_.Exception) {
            throw
        }
        # Fetching is a courtesy: a folder that cannot be flagged (some shared calendars) or a
        # Send/Receive that fails leaves the cache as it is, and the read goes on.
        Write-Verbose ('Outlook could not fetch the calendar first: {0}' -f $_.Exception.Message)
    } finally {
        if (-not $flagged) {
            try {
                $Folder.InAppFolderSyncObject = $false
            } catch {
                # The flag only adds the folder to the Application Folders group; left set, it
                # changes nothing the user sees.
                Write-Verbose ('The Application Folders flag stays set: {0}' -f $_.Exception.Message)
            }
        }
        Remove-ComReference $appFolders
        Remove-ComReference $syncObjects
    }
}

function Start-Watchdog {
    <# After $Seconds, stops the windowless Outlook this script started, so a call hung on an unseen dialog fails instead of outliving the script. #>
    param([int] $Seconds)
    $watchdog = [PowerShell]::Create()
    # A runspace of its own: the script's thread may be stuck inside a COM call.
    [void]$watchdog.AddScript({
            param($Watch, $Seconds, $Session, $Since)
            $until = [DateTime]::Now.AddSeconds($Seconds)
            while ([DateTime]::Now -lt $until) {
                if ($Watch.Done) {
                    return
                }
                Start-Sleep -Milliseconds 200
            }
            $Watch.Fired = $true
            if (-not $Watch.Started) {
                return
            }
            # Only an Outlook of this session, started after this script and without a window:
            # never the user's own.
            Get-Process -Name 'OUTLOOK' -ErrorAction SilentlyContinue |
                Where-Object { $_.SessionId -eq $Session -and $_.StartTime -ge $Since -and $_.MainWindowHandle -eq [IntPtr]::Zero } |
                Stop-Process -Force -ErrorAction SilentlyContinue
        })
    $self = [System.Diagnostics.Process]::GetCurrentProcess()
    [void]$watchdog.AddArgument($script:Watch).AddArgument($Seconds).AddArgument($self.SessionId).AddArgument($self.StartTime)
    [void]$watchdog.BeginInvoke()
    return $watchdog
}

function ConvertFrom-Seconds {
    <# A whole number of seconds from a parameter, 0 when empty, or a failure naming the parameter. #>
    param([string] $Text, [string] $Name)
    if (-not $Text) {
        return 0
    }
    $value = 0
    if (-not [int]::TryParse($Text, [System.Globalization.NumberStyles]::None, $script:Invariant, [ref] $value)) {
        throw (New-Failure 'failed' ("-{0}: expected a whole number of seconds such as 30, got '{1}'" -f $Name, $Text))
    }
    return $value
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
    $hresult = Get-ComHResult $Exception
    if ($Exception.Data.Contains('calsync_hresult')) {
        $hresult = [string]$Exception.Data['calsync_hresult']
    }
    if ($script:Watch.Fired) {
        # Once the watchdog stopped the hidden Outlook every later call fails, and stores that
        # could not be read would look missing: the deadline is the cause, whatever came after.
        $code = 'timeout'
        $message = $script:TimeoutMessage -f $DeadlineSeconds, $script:Step
    } elseif (Test-CalsyncFailure $Exception) {
        $code = [string]$Exception.Data['calsync_code']
        if ($Exception.Data.Contains('calsync_calendars')) {
            $calendars = $Exception.Data['calsync_calendars']
        }
    } elseif ($hresult -eq '80040154') {
        # REGDB_E_CLASSNOTREG: the ProgID is there but its server is not.
        $code = 'outlook_not_installed'
        $message = $script:NotInstalledMessage
    } elseif ($hresult -eq '80070005') {
        # Outside the properties the guard protects (those are told apart where they are read),
        # E_ACCESSDENIED is a folder, mailbox or shared calendar this profile may not open.
        $code = 'permission_denied'
        $message = $script:PermissionDeniedMessage -f $hresult, $script:Step
    } elseif ($hresult -eq '80080005') {
        # CO_E_SERVER_EXEC_FAILURE: COM cannot attach an elevated Outlook to a non-elevated
        # caller, or the reverse.
        $message = 'Outlook runs with other rights than the agent (one of them as administrator?): start both the same way. ' + $message
    } elseif ($hresult -eq '80010001' -or $hresult -eq '8001010A') {
        # RPC_E_CALL_REJECTED / RPC_E_SERVERCALL_RETRYLATER: a dialog box keeps Outlook busy.
        $message = 'Outlook is busy, probably with an open dialog box; the next pass tries again. ' + $message
    }
    $hex = $null
    if ($hresult) {
        $hex = '0x' + $hresult
        if (-not $message.Contains($hresult)) {
            $message = '{0} (HRESULT {1}, while {2})' -f $message.TrimEnd(), $hex, $script:Step
        }
    }
    if ($null -ne $calendars) {
        $details = [ordered]@{ code = $code; message = $message; hresult = $hex; calendars = $calendars.ToArray() }
    } else {
        $details = [ordered]@{ code = $code; message = $message; hresult = $hex }
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
$watchdog = $null
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
    $deadline = ConvertFrom-Seconds -Text $DeadlineSeconds -Name 'DeadlineSeconds'
    $syncFor = ConvertFrom-Seconds -Text $SyncSeconds -Name 'SyncSeconds'
    $startedOutlook = -not (Test-OutlookRunning)
    $script:Watch.Started = $startedOutlook
    # Started before the first COM call: starting Outlook and logging on can hang too.
    if ($deadline -gt 0) {
        $watchdog = Start-Watchdog -Seconds $deadline
    }
    $script:Step = 'starting Outlook'
    $outlook = New-Object -ComObject 'Outlook.Application'
    $script:Namespace = $outlook.GetNamespace('MAPI')
    if ($startedOutlook) {
        # A hidden Outlook started by COM has no session yet: log on to the default profile
        # without showing the profile dialog.
        $script:Step = 'logging on to the Outlook profile'
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
        $target = Resolve-Calendar -Name $CalendarName -OwnerName $Owner -RememberedEntryId $EntryId -RememberedStoreId $StoreId
        try {
            # An Outlook someone has open keeps its cache current; one started just now has not
            # fetched anything yet.
            if ($startedOutlook -and $syncFor -gt 0) {
                Sync-StartedOutlook -Folder $target.Folder -Seconds $syncFor
            }
            $script:Step = "reading the calendar '{0}'" -f $target.Record['path']
            $readProtected = -not $SkipGuarded.IsPresent
            $occurrences = Read-Occurrence -Folder $target.Folder -WindowStart $windowStart -WindowEnd $windowEnd -WithBody ($IncludeBody.IsPresent -and $readProtected) -ReadProtected $readProtected
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
    $script:Watch.Done = $true
    if ($null -ne $watchdog) {
        $watchdog.Dispose()
    }
}
Write-JsonDocument $document
exit $exitCode
