/**
 * Exchange source: one calendar of an on-premises Exchange mailbox, read over EWS.
 * Exchange Online's EWS URLs are refused with a pointer to the `microsoft365` source.
 *
 * Config: `{"type": "exchange", "name": "Office", "exchange_url":
 * "https://mail.example.com/EWS/Exchange.asmx", "username": "…", "password": "…"}`,
 * optional `calendar_name` (a calendar folder's display name anywhere in the mailbox;
 * default the default calendar; in another `mailbox` looked up first from that mailbox's
 * calendar, which is all a delegate with rights on the calendar alone may see),
 * `mailbox` (a shared or delegated mailbox's SMTP address), `auth` (`basic` default, or `ntlm`), `include_body` (default false),
 * `timeout_seconds` (default 60), `ca_file` (relative to the config file) and
 * `tls_insecure`. A password written `env:NAME` is read from the environment.
 *
 * Exchange expands series itself: a CalendarView returns every occurrence and exception
 * in a range in order of their start, at most so many per request; when a range holds
 * more, the next view starts where the answer ended, so no answer is thrown away. A
 * range Exchange refuses as too big (over two years) is halved. Properties are then
 * loaded 100 items per GetItem request.
 *
 * @module
 */
import { IncludeBody, timeoutSeconds } from "../source_settings.ts";
import { envSecret } from "../../shared/env_secret.ts";
import { resolve } from "node:path";
import { z } from "zod";
import { ews } from "../../shared/ews/library.ts";
import {
  connect,
  type EwsConnection,
  responseError,
  throwIfBusy,
} from "../../shared/ews/connect.ts";
import { EwsError, type SettingNames } from "../../shared/ews/errors.ts";
import {
  bindFolder,
  type CalendarFolder,
  listCalendars,
  pickCalendar,
} from "../../shared/ews/folders.ts";
import { occurrenceProperties, readOccurrence } from "../../shared/ews/occurrence.ts";
import { type Occurrence, occurrenceKey, overlaps, type TimeWindow } from "../../shared/model.ts";
import { EXCHANGE_ONLINE_HINT, isExchangeOnlineEws } from "../../shared/exchange_online.ts";
import { displayUrl } from "../http.ts";
import { type ReadWarning, readWarning } from "../../shared/warnings.ts";
import type { SourceReading, SourceType } from "./mod.ts";

const URL_HINT = "expected the EWS URL such as https://mail.example.com/EWS/Exchange.asmx";

/** The agent's config keys, as error messages name them. */
const SETTING_NAMES: SettingNames = {
  url: "exchange_url",
  username: "username",
  password: "password",
  auth: "auth",
  caFile: "ca_file",
  tlsInsecure: "tls_insecure",
  calDav: 'a "caldav" source with "url": ',
};

/** Items asked of one CalendarView: Exchange's default find-count limit. */
const VIEW_LIMIT = 1000;
/** Items per GetItem request. */
const LOAD_BATCH = 100;
/** A range this short that still holds too many items is not split further. */
const MIN_SPLIT_MS = 60_000;
/** The code of a CalendarView over two years, which Exchange refuses. */
const RANGE_TOO_BIG = "ErrorCalendarViewRangeTooBig";
/**
 * The code of a view asking for more than the server's find-count limit; its
 * `PolicyLimit` says how many a view may ask for.
 */
const OVER_LIMIT = "ErrorExceededFindCountLimit";

function isHttpUrl(value: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** A password as written, or `env:NAME` read from the environment. */
const Password = envSecret("expected the Exchange password as a string");

/** The keys of an `exchange` source. */
export const ExchangeSettings = z.object({
  exchange_url: z.string({ error: URL_HINT }).refine(isHttpUrl, { error: URL_HINT })
    .refine((url) => !isExchangeOnlineEws(url), { error: EXCHANGE_ONLINE_HINT }),
  username: z.string({
    error: "expected the Exchange user name (user@example.com or DOMAIN\\user)",
  }),
  password: Password,
  calendar_name: z.string({ error: "expected a calendar folder's name" }).min(1).nullable()
    .default(null),
  mailbox: z.string({ error: "expected the SMTP address of a mailbox" })
    .regex(/^[^@\s]+@[^@\s]+$/, { error: "expected the SMTP address of a mailbox" })
    .nullable()
    .default(null),
  auth: z.enum(["basic", "ntlm"], { error: 'expected "basic" or "ntlm"' }).default("basic"),
  include_body: IncludeBody,
  timeout_seconds: timeoutSeconds(60),
  ca_file: z.string({ error: "expected the path of a PEM file" }).nullable().default(null),
  tls_insecure: z.boolean({ error: "expected true or false" }).default(false),
});

/** Validated settings of an `exchange` source. */
export type ExchangeSettings = z.output<typeof ExchangeSettings>;

/** Codes of a folder a delegate may not see: not there, as far as it is concerned. */
const HIDDEN = new Set(["ErrorFolderNotFound", "ErrorAccessDenied", "ErrorItemNotFound"]);

/** What `look` finds, or nothing where the user may not look. */
async function visible(look: () => Promise<CalendarFolder[]>): Promise<CalendarFolder[]> {
  try {
    return await look();
  } catch (error) {
    if (error instanceof EwsError && HIDDEN.has(error.responseCode ?? "")) return [];
    throw error;
  }
}

/**
 * The calendar to read: the default one, or the folder named `name`. In the user's own
 * mailbox it is looked for in the whole mailbox. In another mailbox it is looked for
 * first among the calendar and its subfolders, which a delegate with rights on the
 * calendar alone may read, and only then in the whole mailbox.
 */
async function calendarFolder(
  connection: EwsConnection,
  name: string | null,
): Promise<ews.FolderId> {
  if (name === null) return connection.folderId(ews.WellKnownFolderName.Calendar);
  const calendars: CalendarFolder[] = [];
  const below = (root: ews.WellKnownFolderName) =>
    visible(() => listCalendars(connection, connection.folderId(root), true));
  if (connection.mailbox !== null) {
    const calendar = connection.folderId(ews.WellKnownFolderName.Calendar);
    calendars.push(
      ...await visible(async () => [await bindFolder(connection, calendar)]),
      ...await below(ews.WellKnownFolderName.Calendar),
    );
    const found = pickCalendar(calendars, name);
    if (found) return new ews.FolderId(found.id);
  }
  calendars.push(...await below(ews.WellKnownFolderName.MsgFolderRoot));
  const found = pickCalendar(calendars, name);
  if (found) return new ews.FolderId(found.id);
  const names = [...new Set(calendars.map((c) => `"${c.name}"`))].sort().join(", ");
  const mailbox = connection.mailbox ?? "the user's mailbox";
  throw new EwsError(
    "not_found",
    `no calendar named "${name}" in ${mailbox}; calendar_name may be one of: ${names || "(none)"}`,
  );
}

/** One CalendarView of `[start, end)`: the ids and starts it returned, and whether that was all. */
async function calendarView(
  connection: EwsConnection,
  folder: ews.FolderId,
  start: number,
  end: number,
  limit: number,
): Promise<{ items: { id: ews.ItemId; start: number }[]; complete: boolean }> {
  const range = `${new Date(start).toISOString()} to ${new Date(end).toISOString()}`;
  const page = await connection.run(`read the calendar from ${range}`, (service) => {
    const view = new ews.CalendarView(new ews.DateTime(start), new ews.DateTime(end), limit);
    view.PropertySet = new ews.PropertySet(ews.BasePropertySet.IdOnly, [
      ews.AppointmentSchema.Start,
    ]);
    return service.FindAppointments(folder, view);
  });
  return {
    items: page.Items.map((item) => ({ id: item.Id, start: item.Start.TotalMilliSeconds })),
    complete: !page.MoreAvailable,
  };
}

/**
 * The ids of every item of `folder` in `[start, end)`. A view that holds more than one
 * answer returns the first by start; the next view starts just before the last start it
 * returned (so a zero-length item there still overlaps), and the items seen twice are
 * kept once. A server whose find-count limit is below {@link VIEW_LIMIT} is asked for its
 * `PolicyLimit` from then on; a range Exchange refuses as too long is halved.
 */
async function viewRange(
  connection: EwsConnection,
  folder: ews.FolderId,
  start: number,
  end: number,
  limits: { items: number } = { items: VIEW_LIMIT },
): Promise<ews.ItemId[]> {
  const ids = new Map<string, ews.ItemId>();
  for (let from = start;;) {
    let view: Awaited<ReturnType<typeof calendarView>>;
    try {
      view = await calendarView(connection, folder, from, end, limits.items);
    } catch (error) {
      if (!(error instanceof EwsError)) throw error;
      const policy = Number(error.details.PolicyLimit);
      if (error.responseCode === OVER_LIMIT && policy > 0 && policy < limits.items) {
        limits.items = policy;
        continue;
      }
      if (error.responseCode !== RANGE_TOO_BIG || end - from <= MIN_SPLIT_MS) throw error;
      const middle = from + Math.floor((end - from) / 2);
      for (const [partStart, partEnd] of [[from, middle], [middle, end]]) {
        for (const id of await viewRange(connection, folder, partStart, partEnd, limits)) {
          ids.set(id.UniqueId, id);
        }
      }
      return [...ids.values()];
    }
    for (const item of view.items) ids.set(item.id.UniqueId, item.id);
    if (view.complete) return [...ids.values()];
    const next = Math.max(...view.items.map((item) => item.start)) - 1;
    if (!(next > from)) {
      const range = `${new Date(from).toISOString()} to ${new Date(end).toISOString()}`;
      throw new EwsError(
        "server",
        `more items overlap the start of ${range} than Exchange returns in one CalendarView`,
      );
    }
    from = next;
  }
}

/** Loads the occurrence properties of `ids`, {@link LOAD_BATCH} per request. */
async function loadAppointments(
  connection: EwsConnection,
  ids: ews.ItemId[],
  includeBody: boolean,
): Promise<{ appointments: ews.Appointment[]; warnings: ReadWarning[] }> {
  const appointments: ews.Appointment[] = [];
  const warnings: ReadWarning[] = [];
  for (let i = 0; i < ids.length; i += LOAD_BATCH) {
    const batch = ids.slice(i, i + LOAD_BATCH);
    const responses = await connection.run(
      `read ${batch.length} appointments`,
      async (service) =>
        (await service.BindToItems(batch, occurrenceProperties(includeBody))).Responses,
    );
    throwIfBusy(responses, "read appointments");
    responses.forEach((response, j) => {
      if (response.Result !== ews.ServiceResult.Error) {
        appointments.push(response.Item as ews.Appointment);
      } else if (response.ErrorCode !== ews.ServiceError.ErrorItemNotFound) {
        // Deleted between the view and the read: gone, nothing to say. Anything else is.
        warnings.push(
          readWarning(
            "event-skipped",
            `skipped: ${responseError(response, `item ${batch[j].UniqueId}`).message}`,
          ),
        );
      }
    });
  }
  return { appointments, warnings };
}

/** Every occurrence of the calendar overlapping `window`. */
async function readWindow(
  connection: EwsConnection,
  settings: ExchangeSettings,
  window: TimeWindow,
): Promise<SourceReading> {
  const folder = await calendarFolder(connection, settings.calendar_name);
  const ids = await viewRange(connection, folder, Date.parse(window.start), Date.parse(window.end));
  const { appointments, warnings } = await loadAppointments(
    connection,
    ids,
    settings.include_body,
  );
  const byKey = new Map<string, Occurrence>();
  for (const appointment of appointments) {
    try {
      const occurrence = readOccurrence(appointment, settings.include_body);
      // An all-day date counts from UTC midnight against the window, and the view asked
      // in UTC; an all-day event of a zone east of UTC may start just outside.
      if (overlaps(occurrence, window)) byKey.set(occurrenceKey(occurrence), occurrence);
    } catch (error) {
      warnings.push(
        readWarning(
          "event-skipped",
          `${appointment.Id.UniqueId}: skipped: ${(error as Error).message}`,
        ),
      );
    }
  }
  return { occurrences: [...byKey.values()], warnings };
}

/** Reads a calendar of an Exchange mailbox over EWS. */
export const exchangeSource: SourceType<ExchangeSettings> = {
  type: "exchange",
  settings: ExchangeSettings,
  describe: (s) =>
    `${displayUrl(s.exchange_url)}${s.mailbox ? ` (${s.mailbox})` : ""}` +
    (s.calendar_name ? ` "${s.calendar_name}"` : ""),
  async read(s, context): Promise<SourceReading> {
    const connection = await connect({
      url: s.exchange_url,
      username: s.username,
      password: s.password,
      auth: s.auth,
      mailbox: s.mailbox,
      caFile: s.ca_file === null ? null : resolve(context.configDir, s.ca_file),
      tlsInsecure: s.tls_insecure,
      timeoutMs: s.timeout_seconds * 1000,
      settingNames: SETTING_NAMES,
    });
    try {
      return await readWindow(connection, s, context.window);
    } finally {
      connection.close();
    }
  },
};
