/**
 * A fake Exchange Server 2016 (or 2013 SP1) for tests: a loopback HTTP server that answers
 * EWS SOAP at `/EWS/Exchange.asmx` the way Exchange 2016 CU23 does for the operations calsync uses
 * (`GetFolder`, `FindFolder`, `CreateFolder`, `FindItem` with `CalendarView` or
 * `IndexedPageItemView`, `GetItem`, `CreateItem`, `UpdateItem`, `DeleteItem`,
 * `GetUserConfiguration` of the OWA options), behind
 * Basic and NTLM authentication, with switches for throttling, failures and hosts that
 * are not Exchange.
 *
 * ```ts
 * await using exchange = await startFakeExchange();
 * const ann = exchange.mailbox("ann@corp.example");
 * ann.addAppointment({ subject: "Stand-up", start: "2026-11-30T08:00:00Z", end: "2026-11-30T08:15:00Z" });
 * // point the code under test at exchange.url with ann@corp.example / Passw0rd!
 * ```
 *
 * @module
 */
import type { AuthScheme } from "./auth.ts";
import type { ServerMode } from "./pages.ts";
import type { FolderGrant } from "./permissions.ts";
import { type FakeFolder, type FakeItem, FakeMailboxHandle, type SeedAppointment } from "./seed.ts";
import { FakeExchangeServer, type RequestRecord } from "./server.ts";
import type { ServerVersion } from "./versions.ts";

export type {
  AuthScheme,
  FakeFolder,
  FakeItem,
  FolderGrant,
  RequestRecord,
  SeedAppointment,
  ServerMode,
  ServerVersion,
};

/** How to start a fake Exchange. */
export interface FakeExchangeOptions {
  /** User name (the mailbox's SMTP address) → password; default `{"ann@corp.example": "Passw0rd!"}`. */
  users?: Record<string, string>;
  /** The schemes offered, default `["basic", "ntlm"]`. */
  auth?: AuthScheme[];
  /** The find-count limit (`EWSFindCountLimit`) of calendar views and searches, default 1000. */
  maxCalendarViewItems?: number;
  /**
   * The build to be, default `Exchange2016_CU23` (15.1.2507.6). `Exchange2013_SP1`
   * (15.0.847.32) refuses requests for later schema versions (Exchange2015, Exchange2016…)
   * with the `ErrorInvalidServerVersion` fault.
   */
  version?: ServerVersion;
}

/** A running fake Exchange. */
export interface FakeExchange extends AsyncDisposable {
  /** `http://127.0.0.1:PORT/EWS/Exchange.asmx` */
  url: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** The mailbox of an address (created on first use). */
  mailbox(address: string): FakeMailbox;
  /** Every EWS request that passed authentication, oldest first. */
  readonly requests: readonly RequestRecord[];
  resetRequests(): void;
  /** Answers the next `count` requests with the `ErrorServerBusy` fault (HTTP 500). */
  throttle(count: number, backOffMs: number): void;
  /** Fails the next request of `operation` with `responseCode` in each response message. */
  failNext(operation: string, responseCode: string): void;
  /** Answers as Exchange, or as a login page, a 404 host or a mailcow/SOGo host. */
  setMode(mode: ServerMode): void;
  /** Stops the server; idempotent. */
  close(): Promise<void>;
}

/** A test's handle on one mailbox. */
export interface FakeMailbox {
  /** The Calendar folder's id. */
  calendarId: string;
  /** Creates a calendar folder under `parentId` (default: the Calendar); returns its id. */
  addFolder(displayName: string, parentId?: string): string;
  /** Every folder of the mailbox (root, top of information store, default folders, yours). */
  folders(): FakeFolder[];
  /** Stores an appointment (default: in the Calendar); returns its item id. */
  addAppointment(a: SeedAppointment, folderId?: string): string;
  /** The stored items (singles and masters, not expanded) of a folder, default the Calendar. */
  items(folderId?: string): FakeItem[];
  /**
   * Sets the zone (a Windows id) of the `OWA.UserOptions` configuration that
   * `GetUserConfiguration` reads; null (the default) means the user never opened OWA and
   * the object does not exist.
   */
  setOwaTimeZone(windowsId: string | null): void;
  /**
   * Grants another user rights on this mailbox: `all` folders, or `calendar` (the Calendar
   * and its sub-folders). A mailbox without grants is open to every authenticated user;
   * once it has one, other users reach only what they were granted, and the rest answers
   * `ErrorFolderNotFound`/`ErrorItemNotFound` as Exchange answers a delegate.
   */
  grant(user: string, folder: FolderGrant): void;
}

/** Starts a fake Exchange on a free loopback port. */
export function startFakeExchange(options: FakeExchangeOptions = {}): Promise<FakeExchange> {
  const server = new FakeExchangeServer({
    users: options.users ?? { "ann@corp.example": "Passw0rd!" },
    auth: options.auth ?? ["basic", "ntlm"],
    maxCalendarViewItems: options.maxCalendarViewItems ?? 1000,
    version: options.version ?? "Exchange2016_CU23",
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, server.handle);
  const origin = `http://127.0.0.1:${http.addr.port}`;
  let closing: Promise<void> | null = null;
  const close = () => closing ??= http.shutdown();
  return Promise.resolve({
    url: `${origin}/EWS/Exchange.asmx`,
    origin,
    mailbox: (address) => new FakeMailboxHandle(server.store.mailbox(address)),
    get requests() {
      return server.requests;
    },
    resetRequests: () => void (server.requests.length = 0),
    throttle: (count, backOffMs) => server.throttle(count, backOffMs),
    failNext: (operation, responseCode) => server.failNext(operation, responseCode),
    setMode: (mode) => void (server.mode = mode),
    close,
    [Symbol.asyncDispose]: close,
  });
}
