/**
 * Whether an EWS URL is Exchange Online's. Exchange Online blocks EWS for applications
 * not on a tenant's allow-list since 1 October 2026 and removes it on 1 April 2027;
 * on-premises Exchange keeps it. Microsoft 365 mailboxes are reached through Microsoft
 * Graph, the `microsoft365` source and destination.
 *
 * @module
 */

/** The EWS hosts of Exchange Online: worldwide, US Government (GCC High, DoD) and China. */
const EXCHANGE_ONLINE_HOSTS = new Set([
  "outlook.office365.com",
  "outlook.office.com",
  "outlook.office365.us",
  "outlook-dod.office365.us",
  "partner.outlook.cn",
]);

/** Whether `url` points at Exchange Online (an unreadable URL is not). */
export function isExchangeOnlineEws(url: string): boolean {
  try {
    return EXCHANGE_ONLINE_HOSTS.has(new URL(url).hostname.toLowerCase().replace(/\.$/, ""));
  } catch {
    return false;
  }
}

/** What to tell the admin who configured Exchange Online's EWS URL. */
export const EXCHANGE_ONLINE_HINT = "this is Exchange Online (Microsoft 365), which blocks " +
  "EWS for unlisted apps since 1 October 2026 and removes it on 1 April 2027: use the " +
  '"microsoft365" type with an Entra app registration instead (see "Microsoft 365 (Graph)" ' +
  "in the README); the exchange type is for on-premises Exchange";
