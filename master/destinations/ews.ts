/**
 * EWS destination: one calendar folder of an on-premises Exchange mailbox, holding one
 * single appointment per consolidated occurrence (see `shared/ews/appointment.ts` for
 * the fields and the calsync marker).
 *
 * Exchange names items itself, so there is no `hrefFor`: `href` is the ItemId and
 * `etag` the ChangeKey, and an item written just before a crash is found again by its
 * marker when listing. The marker holds a digest of the occurrence key
 * ({@link markerOf}), which `markerOf` offers the reconciler to match listed items.
 * Writes go in batches (one CreateItem, UpdateItem or DeleteItem request per batch) and
 * never send anything to anyone (`SendToNone` throughout). Updates and removals first
 * read the batch's items in one GetItem request: an item without the marker is never
 * changed or deleted, and a ChangeKey that moved on is `precondition_failed` for that
 * item. Updates then send that ChangeKey with `NeverOverwrite`, the one mode in which
 * Exchange refuses a change made in between ([MS-OXWSCORE] 3.1.4.9.4.1: `AutoResolve`
 * overwrites in most cases). Removal is a hard delete: the items are copies whose source
 * holds the truth, and moving them to Deleted Items would only clutter it.
 *
 * Items written by versions before 0.2 carry the whole key instead of its digest. They
 * are listed with a ChangeKey calsync never recorded (`legacy:` before it) and no hash,
 * so the plan writes each once, which replaces the old marker; a key FindItem cut is
 * read whole with GetItem first.
 *
 * All-day items are written in the mailbox's own time zone, so Outlook shows them on
 * their days: the zone of the mailbox's Outlook on the web settings where EWS lets
 * calsync read them, else the configured `timezone`, else the master's.
 *
 * EWS has no cheap collection tag, so `changeToken()` is null and every reconcile lists
 * the folder (1,000 items per FindItem page, ids and marker only).
 *
 * @module
 */
import { ews } from "../../shared/ews/library.ts";
import {
  HASH_PROPERTY,
  ID_PROPERTY,
  LEGACY_KEY_PROPERTY,
  markerOf,
  mayBeCut,
  readMarker,
  writeAppointment,
} from "../../shared/ews/appointment.ts";
import { mailboxZone } from "../../shared/ews/mailbox_zone.ts";
import {
  connect,
  type EwsConnection,
  responseError,
  throwIfBusy,
} from "../../shared/ews/connect.ts";
import { EwsError, type SettingNames } from "../../shared/ews/errors.ts";
import {
  bindFolder,
  createCalendar,
  listCalendars,
  pickCalendar,
} from "../../shared/ews/folders.ts";
import type { EwsAuth } from "../../shared/ews/transport.ts";
import {
  type BatchWrites,
  type Destination,
  DestinationError,
  type DestinationItem,
  type ItemResult,
  type RemoteItem,
  type RemoveRequest,
  type UpdateRequest,
} from "./types.ts";

/** The master's settings of an Exchange destination, as error messages name them. */
export const EXCHANGE_SETTING_NAMES: SettingNames = {
  url: "EXCHANGE_SERVER_URL",
  username: "EXCHANGE_USERNAME",
  password: "EXCHANGE_PASSWORD",
  auth: "EXCHANGE_AUTH",
  caFile: "EXCHANGE_CA_FILE",
  tlsInsecure: "EXCHANGE_TLS_INSECURE",
  calDav: "CALDAV_URL=",
};

/** Items per FindItem page: Exchange's default `EWSFindCountLimit`. */
const LIST_PAGE_SIZE = 1000;

/** Items per GetItem request when whole legacy keys must be read. */
const LOAD_BATCH = 100;

/** Before the ChangeKey of an item in the old marker format, so no recorded one matches. */
const LEGACY_ETAG = "legacy:";

/** Default items per write request. */
export const DEFAULT_BATCH_SIZE = 50;

/** How to reach the calendar. */
export interface EwsDestinationOptions {
  /** Configured id of the destination. */
  id: string;
  /** The EWS endpoint, such as `https://mail.example.com/EWS/Exchange.asmx`. */
  url: string;
  username: string;
  password: string;
  /** Default `basic`. */
  auth?: EwsAuth;
  /**
   * A calendar folder by display name directly under the default calendar, created when
   * missing; default the default calendar itself.
   */
  calendar?: string | null;
  /** PEM file of the CA to trust instead of the system's. */
  caFile?: string | null;
  /** Skip certificate checks (at the user's own risk). */
  tlsInsecure?: boolean;
  /** SMTP address of a shared or delegated mailbox; default the user's own. */
  mailbox?: string | null;
  /** Limit of each request; default 60 s. */
  timeoutMs?: number;
  /** Items per write request, 1 to 100; default {@link DEFAULT_BATCH_SIZE}. */
  batchSize?: number;
  /** How error messages name the settings; default {@link EXCHANGE_SETTING_NAMES}. */
  settingNames?: SettingNames;
  /**
   * IANA zone of all-day items when the mailbox does not say (or may not be asked);
   * default the master's own zone.
   */
  timezone?: string | null;
}

/** Runs `operation`, turning EWS failures into {@link DestinationError}s. */
async function translated<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw error instanceof EwsError ? destinationError(error) : error;
  }
}

function destinationError(error: EwsError): DestinationError {
  return new DestinationError(error.kind, error.message, error.retryAfterMs);
}

function failed<T>(error: EwsError | DestinationError): ItemResult<T> {
  return { ok: false, error: error instanceof EwsError ? destinationError(error) : error };
}

function succeeded<T>(value: T): ItemResult<T> {
  return { ok: true, value };
}

/** The value of a single write, or its error thrown. */
function unwrap<T>(result: ItemResult<T>): T {
  if (!result.ok) throw result.error;
  return result.value;
}

/** Whether a response reports success (warnings included). */
function succeededResponse(response: ews.ServiceResponse): boolean {
  return response.Result !== ews.ServiceResult.Error;
}

/** The properties list and get read: the id with its ChangeKey, and the marker. */
function markerProperties(): ews.PropertySet {
  return new ews.PropertySet(ews.BasePropertySet.IdOnly, [
    ID_PROPERTY,
    HASH_PROPERTY,
    LEGACY_KEY_PROPERTY,
  ]);
}

function remoteItem(item: ews.Item): RemoteItem {
  const marker = readMarker(item);
  const changeKey = item.Id.ChangeKey ?? null;
  if (marker === null) return { href: item.Id.UniqueId, etag: changeKey, key: null, hash: null };
  if (marker.format === "current") {
    return { href: item.Id.UniqueId, etag: changeKey, key: marker.id, hash: marker.hash };
  }
  return {
    href: item.Id.UniqueId,
    etag: changeKey === null ? null : LEGACY_ETAG + changeKey,
    key: markerOf(marker.key),
    hash: null,
  };
}

/** What an item of a batch looks like before it is changed: gone, or loaded with its marker. */
type Current = { item: ews.Item; remote: RemoteItem } | null;

/** Response codes of an id that names nothing (any more): the item is not there. */
const GONE = new Set([
  ews.ServiceError.ErrorItemNotFound,
  ews.ServiceError.ErrorInvalidIdMalformed,
]);

class EwsDestination implements Destination {
  readonly type = "ews";
  readonly displayUrl: string;
  readonly batch: BatchWrites;
  readonly #connection: EwsConnection;
  readonly #folder: ews.FolderId;
  readonly #allDayZone: string;

  constructor(
    readonly id: string,
    connection: EwsConnection,
    folder: { id: string; name: string },
    batchSize: number,
    allDayZone: string,
  ) {
    this.#connection = connection;
    this.#folder = new ews.FolderId(folder.id);
    this.#allDayZone = allDayZone;
    this.displayUrl = `${connection.displayUrl}#${encodeURIComponent(connection.mailbox ?? "")}/${
      encodeURIComponent(folder.name)
    }`;
    this.batch = {
      batchSize,
      createBatch: (items) => this.#createBatch(items),
      updateBatch: (requests) => this.#updateBatch(requests),
      removeBatch: (requests) => this.#removeBatch(requests),
    };
  }

  changeToken(): Promise<string | null> {
    return Promise.resolve(null);
  }

  markerOf(key: string): string {
    return markerOf(key);
  }

  list(): Promise<RemoteItem[]> {
    return translated(async () => {
      const items: ews.Item[] = [];
      for (let offset = 0;;) {
        const page = await this.#connection.run("list the calendar", (service) => {
          const view = new ews.ItemView(LIST_PAGE_SIZE, offset);
          view.PropertySet = markerProperties();
          return service.FindItems(this.#folder, view);
        });
        items.push(...page.Items);
        if (!page.MoreAvailable || page.Items.length === 0) break;
        offset = page.NextPageOffset ?? offset + page.Items.length;
      }
      return await this.#withWholeKeys(items.map(remoteItem), items);
    });
  }

  /**
   * `listed` with the items whose legacy key FindItem may have cut read again with
   * GetItem, which returns it whole.
   */
  async #withWholeKeys(listed: RemoteItem[], items: ews.Item[]): Promise<RemoteItem[]> {
    const cut = items.flatMap((item, i) => {
      const marker = readMarker(item);
      return marker !== null && mayBeCut(marker) ? [i] : [];
    });
    const gone = new Set<number>();
    for (let i = 0; i < cut.length; i += LOAD_BATCH) {
      const batch = cut.slice(i, i + LOAD_BATCH);
      const loaded = await this.#connection.run(
        `read ${batch.length} markers`,
        (service) => this.#load(service, batch.map((index) => listed[index].href)),
      );
      loaded.forEach((current, j) => {
        if (current instanceof EwsError) throw current;
        // Deleted since the listing: it is not there any more.
        if (current === null) gone.add(batch[j]);
        else listed[batch[j]] = current.remote;
      });
    }
    return gone.size === 0 ? listed : listed.filter((_, i) => !gone.has(i));
  }

  get(href: string): Promise<RemoteItem | null> {
    return translated(async () => {
      const [current] = await this.#connection.run(
        `read item ${href}`,
        (service) => this.#load(service, [href]),
      );
      if (current instanceof EwsError) throw current;
      return current?.remote ?? null;
    });
  }

  async create(item: DestinationItem): Promise<{ href: string; etag: string | null }> {
    return unwrap((await this.#createBatch([item]))[0]);
  }

  async update(
    href: string,
    etag: string | null,
    item: DestinationItem,
  ): Promise<{ etag: string | null }> {
    return unwrap((await this.#updateBatch([{ href, etag, item }]))[0]);
  }

  async remove(href: string, etag: string | null): Promise<void> {
    unwrap((await this.#removeBatch([{ href, etag }]))[0]);
  }

  /**
   * The items at `hrefs` in one GetItem request, with their marker: null for an id that
   * names nothing, an error for any other failure of that item.
   */
  async #load(service: ews.ExchangeService, hrefs: string[]): Promise<(Current | EwsError)[]> {
    const responses = (await service.BindToItems(
      hrefs.map((href) => new ews.ItemId(href)),
      markerProperties(),
    )).Responses;
    throwIfBusy(responses, "read items");
    return responses.map((response, i) => {
      if (succeededResponse(response)) {
        return { item: response.Item, remote: remoteItem(response.Item) };
      }
      return GONE.has(response.ErrorCode) ? null : responseError(response, `item ${hrefs[i]}`);
    });
  }

  #createBatch(
    items: DestinationItem[],
  ): Promise<ItemResult<{ href: string; etag: string | null }>[]> {
    return translated(() =>
      this.#connection.run(`create ${items.length} items`, async (service) => {
        const appointments = items.map((item) => {
          const appointment = new ews.Appointment(service);
          writeAppointment(appointment, item.event, item, {
            clearEmpty: false,
            allDayZone: this.#allDayZone,
          });
          return appointment;
        });
        const responses = (await service.CreateItems(
          appointments,
          this.#folder,
          // Appointments take no message disposition; Exchange wants the attribute absent.
          null as unknown as ews.MessageDisposition,
          ews.SendInvitationsMode.SendToNone,
        )).Responses;
        throwIfBusy(responses, "create items");
        return responses.map((response, i) =>
          succeededResponse(response)
            ? succeeded({
              href: appointments[i].Id.UniqueId,
              etag: appointments[i].Id.ChangeKey ?? null,
            })
            : failed(responseError(response, `create "${items[i].event.title}"`))
        );
      })
    );
  }

  #updateBatch(requests: UpdateRequest[]): Promise<ItemResult<{ etag: string | null }>[]> {
    return translated(() =>
      this.#connection.run(`update ${requests.length} items`, async (service) => {
        const current = await this.#load(service, requests.map((r) => r.href));
        const results: ItemResult<{ etag: string | null }>[] = [];
        const sending: { index: number; item: ews.Appointment }[] = [];
        requests.forEach((request, index) => {
          const refusal = this.#refusal(request.href, request.etag, current[index], "update");
          if (refusal !== null) {
            results[index] = failed(refusal);
            return;
          }
          const item = (current[index] as NonNullable<Current>).item as ews.Appointment;
          writeAppointment(item, request.item.event, request.item, {
            clearEmpty: true,
            allDayZone: this.#allDayZone,
          });
          sending.push({ index, item });
        });
        if (sending.length === 0) return results;
        const responses = (await service.UpdateItems(
          sending.map((s) => s.item),
          null as unknown as ews.FolderId,
          // Only NeverOverwrite refuses a ChangeKey that moved on since the GetItem above
          // (ErrorIrresolvableConflict, for that item alone); AutoResolve would overwrite.
          ews.ConflictResolutionMode.NeverOverwrite,
          null as unknown as ews.MessageDisposition,
          ews.SendInvitationsOrCancellationsMode.SendToNone,
        )).Responses;
        throwIfBusy(responses, "update items");
        responses.forEach((response, i) => {
          const { index, item } = sending[i];
          results[index] = succeededResponse(response)
            ? succeeded({ etag: item.Id.ChangeKey ?? null })
            : failed(responseError(response, `item ${requests[index].href}`));
        });
        return results;
      })
    );
  }

  #removeBatch(requests: RemoveRequest[]): Promise<ItemResult<void>[]> {
    return translated(() =>
      this.#connection.run(`remove ${requests.length} items`, async (service) => {
        const current = await this.#load(service, requests.map((r) => r.href));
        const results: ItemResult<void>[] = [];
        const deleting: number[] = [];
        requests.forEach((request, index) => {
          if (current[index] === null) {
            results[index] = succeeded(undefined);
            return;
          }
          const refusal = this.#refusal(request.href, request.etag, current[index], "delete");
          if (refusal !== null) results[index] = failed(refusal);
          else deleting.push(index);
        });
        if (deleting.length === 0) return results;
        const responses = (await service.DeleteItems(
          deleting.map((index) => new ews.ItemId(requests[index].href)),
          ews.DeleteMode.HardDelete,
          ews.SendCancellationsMode.SendToNone,
          // Only tasks have occurrences to choose from; for appointments it is absent.
          null as unknown as ews.AffectedTaskOccurrence,
        )).Responses;
        throwIfBusy(responses, "delete items");
        responses.forEach((response, i) => {
          const index = deleting[i];
          results[index] =
            succeededResponse(response) || response.ErrorCode === ews.ServiceError.ErrorItemNotFound
              ? succeeded(undefined)
              : failed(responseError(response, `item ${requests[index].href}`));
        });
        return results;
      })
    );
  }

  /**
   * Why a write of `action` must not touch the item as loaded: gone (precondition, so
   * the reconciler reads it again), foreign, or changed since `etag`. Null when it may.
   */
  #refusal(
    href: string,
    etag: string | null,
    current: Current | EwsError,
    action: string,
  ): EwsError | DestinationError | null {
    if (current instanceof EwsError) return current;
    if (current === null) {
      return new DestinationError("precondition_failed", `${href}: the item is gone`);
    }
    if (current.remote.key === null) {
      return new DestinationError(
        "rejected",
        `${href} was not written by calsync; refusing to ${action} it`,
      );
    }
    if (etag !== null && current.remote.etag !== etag) {
      return new DestinationError(
        "precondition_failed",
        `${href} changed since ChangeKey ${etag}`,
      );
    }
    return null;
  }
}

/**
 * The folder calsync writes into: the default calendar, or the calendar named `name`
 * directly under it, created when missing (where Outlook shows it, under "My Calendars").
 */
async function resolveFolder(
  connection: EwsConnection,
  name: string | null,
): Promise<{ id: string; name: string }> {
  const calendarId = connection.folderId(ews.WellKnownFolderName.Calendar);
  if (!name) return await bindFolder(connection, calendarId);
  const found = pickCalendar(await listCalendars(connection, calendarId, false), name);
  return found ?? await createCalendar(connection, calendarId, name);
}

/**
 * Connects to the mailbox at `options.url`, finds (or creates) the calendar folder and
 * returns it as a {@link Destination} with batch writes. Fails with a
 * {@link DestinationError} whose message says what to fix: not an EWS endpoint (and
 * whether it looks like mailcow/SOGo), wrong credentials or auth scheme, an untrusted
 * certificate, a mailbox the user may not open, or a server that cannot be reached.
 */
export async function createEwsDestination(options: EwsDestinationOptions): Promise<Destination> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100) {
    throw new DestinationError("rejected", `batch size ${batchSize}: expected 1 to 100 items`);
  }
  return await translated(async () => {
    const connection = await connect({
      url: options.url,
      username: options.username,
      password: options.password,
      auth: options.auth,
      mailbox: options.mailbox,
      caFile: options.caFile,
      tlsInsecure: options.tlsInsecure,
      timeoutMs: options.timeoutMs,
      settingNames: options.settingNames ?? EXCHANGE_SETTING_NAMES,
    });
    try {
      const folder = await resolveFolder(connection, options.calendar ?? null);
      const zone = await mailboxZone(connection, options.timezone ?? null);
      return new EwsDestination(options.id, connection, folder, batchSize, zone.iana);
    } catch (error) {
      connection.close();
      throw error;
    }
  });
}
