/**
 * A connection to one Exchange mailbox over EWS, for the master's destination and the
 * agent's source alike.
 *
 * Each {@link EwsConnection.run} gets an `ExchangeService` (times in UTC) of its own whose XHR is a {@link CallXhr}, so a failure is judged from that call's own
 * HTTP answer even while other calls are in flight; all calls share one
 * {@link EwsTransport} and so its kept-alive (and, for NTLM, authenticated) connections.
 * Another user's mailbox (shared or delegated) is reached through the `Mailbox` of its
 * folder ids, as a delegate does, not through impersonation.
 *
 * Requests ask for the Exchange 2016 schema; a server that refuses it
 * (`ErrorInvalidServerVersion`: Exchange 2013 knows no later version) is asked again for
 * Exchange 2013 SP1, the oldest schema calsync needs, and the connection keeps that.
 *
 * @example
 * ```ts
 * const exchange = await connect({ url, username, password, settingNames });
 * const folder = await exchange.run("open the calendar", (service) =>
 *   ews.Folder.Bind(service, exchange.folderId(ews.WellKnownFolderName.Calendar)));
 * ```
 *
 * @module
 */
import { ews } from "./library.ts";
import {
  answerError,
  EwsError,
  type HttpAnswer,
  isSoap,
  networkError,
  responseCodeError,
  type SettingNames,
} from "./errors.ts";
import { sogoCalDavUrl } from "./sogo.ts";
import { type EwsAuth, EwsTransport } from "./transport.ts";
import { CallXhr } from "./xhr.ts";

/** Default limit of one exchange. */
export const DEFAULT_TIMEOUT_MS = 60_000;

/** Schemas asked for, newest first: each server answers the newest it knows. */
const VERSIONS = [ews.ExchangeVersion.Exchange2016, ews.ExchangeVersion.Exchange2013_SP1];

/** What the connection asks for when one schema version is refused. */
const VERSION_REFUSED = "ErrorInvalidServerVersion";

/** Longest wait for the probe that looks for SOGo on a host that is not EWS. */
const PROBE_TIMEOUT_MS = 5_000;

/** Where and how to connect. */
export interface EwsConnectOptions {
  /** The EWS endpoint, such as `https://mail.example.com/EWS/Exchange.asmx`. */
  url: string;
  /** `user@example.com` or `DOMAIN\user`. */
  username: string;
  password: string;
  /** Default `basic`. */
  auth?: EwsAuth;
  /** SMTP address of a shared or delegated mailbox; default the user's own. */
  mailbox?: string | null;
  /** A PEM file with the CA certificates to trust instead of the system's. */
  caFile?: string | null;
  /** Skip certificate checks; default false. */
  tlsInsecure?: boolean;
  /** Limit of each exchange; default {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** What the user calls these settings, for error messages. */
  settingNames: SettingNames;
}

/**
 * Lets the transport authenticate: the library insists on credentials, but Basic and
 * NTLM both live in the transport, which alone knows the connection.
 */
class TransportCredentials extends ews.ExchangeCredentials {
  override PrepareWebRequest(): void {}
}

/** `url` without user name and password. */
function withoutCredentials(url: URL): string {
  const copy = new URL(url);
  copy.username = "";
  copy.password = "";
  return copy.href;
}

/** The wait `ErrorServerBusy` asked for, from the response's details. */
function backOffOf(response: ews.ServiceResponse): number | null {
  const details = response.ErrorDetails;
  const value = details?.containsKey("BackOffMilliseconds")
    ? Number(details.get("BackOffMilliseconds"))
    : NaN;
  return Number.isFinite(value) ? value : null;
}

/** The error of a failed item or request response; `what` names the item or request. */
export function responseError(response: ews.ServiceResponse, what: string): EwsError {
  const details: Record<string, string> = {};
  const values = response.ErrorDetails;
  for (const key of values?.Keys ?? []) details[key] = String(values.get(key));
  return responseCodeError(
    ews.ServiceError[response.ErrorCode],
    what,
    response.ErrorMessage ?? "",
    backOffOf(response),
    details,
  );
}

/**
 * Throws the first `ErrorServerBusy` among `responses` as a whole-request error: when
 * Exchange throttles, it does so for the request, whatever item it names.
 */
export function throwIfBusy(responses: ews.ServiceResponse[], what: string): void {
  const busy = responses.find((r) => r.ErrorCode === ews.ServiceError.ErrorServerBusy);
  if (busy) throw responseError(busy, what);
}

/** An open connection to one mailbox. */
export class EwsConnection {
  /** The EWS URL without credentials, for messages and status pages. */
  readonly displayUrl: string;
  /** The mailbox's SMTP address when it is not the user's own. */
  readonly mailbox: string | null;
  readonly #transport: EwsTransport;
  readonly #username: string;
  readonly #names: SettingNames;
  #version = 0;

  /** Use {@link connect}. */
  constructor(transport: EwsTransport, options: EwsConnectOptions) {
    this.#transport = transport;
    this.displayUrl = transport.url;
    this.mailbox = options.mailbox || null;
    this.#username = options.username;
    this.#names = options.settingNames;
  }

  /** The id of a well-known folder (`Calendar`, `MsgFolderRoot`) of this mailbox. */
  folderId(name: ews.WellKnownFolderName): ews.FolderId {
    return this.mailbox === null
      ? new ews.FolderId(name)
      : new ews.FolderId(name, new ews.Mailbox(this.mailbox));
  }

  /**
   * Runs `call` with a service of its own and turns every failure into an
   * {@link EwsError}: what the HTTP answer said when there was one, else the EWS response
   * code of a failed request. `what` names the call in messages ("list the calendar").
   * Errors that are not the library's or the server's (bugs) pass through unchanged.
   */
  async run<T>(what: string, call: (service: ews.ExchangeService) => Promise<T>): Promise<T> {
    for (;;) {
      const version = this.#version;
      try {
        return await this.#runOnce(what, version, call);
      } catch (error) {
        if (!(error instanceof EwsError) || error.responseCode !== VERSION_REFUSED) throw error;
        // The refusal comes before anything was done, so asking again is safe.
        if (version + 1 < VERSIONS.length) {
          this.#version = Math.max(this.#version, version + 1);
          continue;
        }
        throw new EwsError(
          "rejected",
          `${error.message}; calsync needs Exchange 2013 SP1 or later (Exchange 2010 and older ` +
            "are not supported)",
          null,
          VERSION_REFUSED,
        );
      }
    }
  }

  /** The schema version requests currently ask for, such as `Exchange2016`. */
  get version(): string {
    return ews.ExchangeVersion[VERSIONS[this.#version]];
  }

  async #runOnce<T>(
    what: string,
    version: number,
    call: (service: ews.ExchangeService) => Promise<T>,
  ): Promise<T> {
    const label = this.mailbox === null ? what : `${what} (mailbox ${this.mailbox})`;
    const xhr = new CallXhr(
      this.#transport,
      (answer) => this.#judge(answer),
      (error) => networkError(error, this.displayUrl, this.#names),
    );
    const service = new ews.ExchangeService(VERSIONS[version], ews.TimeZoneInfo.Utc);
    service.Url = new ews.Uri(this.#transport.url);
    service.Credentials = new TransportCredentials();
    service.XHRApi = xhr;
    try {
      return await call(service);
    } catch (error) {
      if (xhr.failure !== null) throw xhr.failure;
      if (error instanceof EwsError) throw error;
      if (error instanceof ews.ServiceResponseException) throw responseError(error.Response, label);
      if (error instanceof ews.Exception) {
        throw new EwsError("server", `${label}: ${error.Message || String(error)}`);
      }
      throw error;
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#transport.close();
  }

  /** Null for a successful SOAP answer, else why it failed (looking for SOGo if not EWS). */
  async #judge(answer: HttpAnswer): Promise<EwsError | null> {
    if (answer.status === 200 && isSoap(answer)) return null;
    const notEws = !isSoap(answer) && answer.status !== 401;
    const sogo = notEws
      ? await sogoCalDavUrl(
        answer,
        this.displayUrl,
        this.#username,
        (url) => this.#transport.get(url, PROBE_TIMEOUT_MS),
      )
      : null;
    return answerError(answer, {
      url: this.displayUrl,
      username: this.#username,
      names: this.#names,
      sogoCalDavUrl: sogo,
    });
  }
}

/** Reads the CA file, refusing anything that holds no PEM certificate. */
async function readCa(path: string, names: SettingNames): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new EwsError(
      "rejected",
      `${names.caFile} ${path}: cannot read it (${(error as Error).message})`,
    );
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new EwsError(
      "rejected",
      `${names.caFile} ${path}: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)`,
    );
  }
  return text;
}

/**
 * Prepares a connection to the mailbox: checks the URL and reads the CA file, and sends
 * nothing yet, so the first call is the first request. Throws an {@link EwsError}
 * (`rejected`) that names the setting to fix.
 */
export async function connect(options: EwsConnectOptions): Promise<EwsConnection> {
  const names = options.settingNames;
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new EwsError(
      "rejected",
      `${names.url}: "${options.url}" is no URL; expected https://HOST/EWS/Exchange.asmx`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new EwsError(
      "rejected",
      `${names.url}: ${url.protocol} is no EWS scheme; expected https://HOST/EWS/Exchange.asmx`,
    );
  }
  const ca = options.caFile ? await readCa(options.caFile, names) : null;
  const transport = new EwsTransport(withoutCredentials(url), {
    username: options.username,
    password: options.password,
    auth: options.auth ?? "basic",
    ca,
    tlsInsecure: options.tlsInsecure ?? false,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });
  return new EwsConnection(transport, options);
}
