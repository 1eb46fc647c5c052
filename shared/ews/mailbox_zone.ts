/**
 * The time zone of an Exchange mailbox, which decides on which days Outlook shows an
 * all-day item: Exchange keeps all-day items as midnights of one zone, and a mailbox
 * whose owner lives in Berlin shows UTC midnights as 01:00 to 01:00 across two days.
 *
 * EWS has no documented mailbox setting for it; Outlook on the web keeps the owner's
 * choice in the `timezone` entry of the `OWA.UserOptions` configuration object of the
 * mailbox's root folder, which GetUserConfiguration reads. A mailbox whose owner never
 * opened Outlook on the web has none, and a delegate may not read another mailbox's
 * root: then the configured zone, else the machine's, is used.
 *
 * @module
 */
import { ews } from "./library.ts";
import type { EwsConnection } from "./connect.ts";
import { EwsError } from "./errors.ts";
import { resolveZone } from "../timezones.ts";

/** Where the zone came from, for the log and the status page. */
export type ZoneOrigin = "mailbox" | "setting" | "machine";

/** A mailbox's zone as an IANA name, and where it was found. */
export interface MailboxZone {
  iana: string;
  origin: ZoneOrigin;
}

/** The Windows zone id Outlook on the web keeps for the mailbox, or null. */
async function owaZone(connection: EwsConnection): Promise<string | null> {
  try {
    const configuration = await connection.run(
      "read the mailbox's time zone",
      (service) =>
        service.GetUserConfiguration(
          "OWA.UserOptions",
          connection.folderId(ews.WellKnownFolderName.Root),
          ews.UserConfigurationProperties.Dictionary,
        ),
    );
    const out: ews.IOutParam<unknown> = { outValue: null };
    return configuration.Dictionary?.TryGetValue("timezone", out) &&
        typeof out.outValue === "string" && out.outValue !== ""
      ? out.outValue
      : null;
  } catch (error) {
    // Exchange answered about this object (none, or none this user may read: a delegate
    // gets ErrorFolderNotFound or ErrorAccessDenied): the mailbox does not say. A refused
    // login, a busy or unreachable server is no answer and fails the call.
    if (error instanceof EwsError && error.responseCode !== null && error.kind !== "throttled") {
      return null;
    }
    throw error;
  }
}

/**
 * The zone of the mailbox `connection` opens: its Outlook on the web setting, else
 * `configured` (an IANA name), else the zone of this machine (`TZ`).
 */
export async function mailboxZone(
  connection: EwsConnection,
  configured: string | null,
): Promise<MailboxZone> {
  const windows = await owaZone(connection);
  const iana = windows === null ? undefined : resolveZone(windows);
  if (iana !== undefined) return { iana, origin: "mailbox" };
  if (configured) return { iana: configured, origin: "setting" };
  return { iana: Intl.DateTimeFormat().resolvedOptions().timeZone, origin: "machine" };
}
