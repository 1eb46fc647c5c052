/**
 * Opens configured destinations. Each connects when a reconcile first needs it, not at
 * start-up, so a destination that is down never keeps the master from taking agent
 * snapshots; a failed connection is tried again at the next reconcile.
 *
 * @module
 */
import type { SourceFilter } from "../sync/desired.ts";
import { createCalDavDestination } from "./caldav.ts";
import { createMicrosoft365Destination, microsoft365DisplayUrl } from "./microsoft365.ts";
import { createGraphClient } from "../../shared/graph/client.ts";
import { VERSION } from "../../shared/version.ts";
import { type DestinationConfig, type LoadedDestinationConfig, sourceFilter } from "./config.ts";
import { type Destination, DestinationError } from "./types.ts";

/** A destination as configured: known by id before it is connected. */
export type ConfiguredDestination = {
  id: string;
  type: string;
  /** Where it is, without credentials. */
  displayUrl: string;
  /** The sources it takes. */
  include: SourceFilter;
  /** The setting(s) to fix when the server refuses the credentials. */
  credentialsSetting: string;
  /**
   * A digest of the settings (URL, user, password), stored to tell when they changed
   * since the server refused them; the password cannot be read back from it.
   */
  settingsDigest(): Promise<string>;
  /** Connects, or gives the connection made before. */
  open(): Promise<Destination>;
};

/** A URL without credentials, for status pages and logs. */
export function displayUrl(url: string): string {
  const u = new URL(url);
  u.username = "";
  u.password = "";
  return u.href;
}

/** Where the destination `config` describes is, without credentials. */
export function configDisplayUrl(config: DestinationConfig): string {
  return config.type === "microsoft365"
    ? microsoft365DisplayUrl(config.graph_url, config.mailbox, config.calendar_name)
    : displayUrl(config.url);
}

/** `connect` run once successfully and then remembered; a failure is tried again. */
export function connectOnce(connect: () => Promise<Destination>): () => Promise<Destination> {
  let connecting: Promise<Destination> | null = null;
  return () =>
    connecting ??= connect().catch((err) => {
      connecting = null;
      throw err;
    });
}

/** An already connected destination (tests, in-memory) as a configured one. */
export function configured(
  destination: Destination,
  include: SourceFilter = () => true,
): ConfiguredDestination {
  const { id, type, displayUrl } = destination;
  return {
    id,
    type,
    displayUrl,
    include,
    credentialsSetting: "the destination's settings",
    settingsDigest: () => Promise.resolve(`${type}:${id}`),
    open: () => Promise.resolve(destination),
  };
}

/**
 * PBKDF2 of `config` salted with its id: slow enough that a stored digest gives no
 * practical way back to a password, computed once per process.
 */
async function digestOf(config: DestinationConfig): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(JSON.stringify(config)),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const bits = await crypto.subtle.deriveBits(
    {
      name: "PBKDF2",
      hash: "SHA-256",
      salt: encoder.encode(`calsync:${config.id}`),
      iterations: 100_000,
    },
    key,
    256,
  );
  return Array.from(new Uint8Array(bits), (b) => b.toString(16).padStart(2, "0")).join("");
}

type Microsoft365Config = Extract<DestinationConfig, { type: "microsoft365" }>;

/** The Microsoft 365 destination of `config`; `prefix` names its fields in messages. */
async function connectMicrosoft365(
  config: Microsoft365Config,
  prefix: string,
): Promise<Destination> {
  let certificatePem = "";
  if (config.certificate_file !== "") {
    try {
      certificatePem = await Deno.readTextFile(config.certificate_file);
    } catch (err) {
      throw new DestinationError(
        "rejected",
        `${prefix}certificate_file: cannot read ${config.certificate_file} ` +
          `(${(err as Error).message}); set it to the PEM file with the app's private key ` +
          "and certificate",
      );
    }
  }
  const client = createGraphClient({
    tenantId: config.tenant_id,
    clientId: config.client_id,
    clientSecret: config.client_secret || undefined,
    certificatePem: certificatePem || undefined,
    authority: config.authority,
    graphUrl: config.graph_url,
    credentialsSetting: `${prefix}${config.client_secret ? "client_secret" : "certificate_file"}`,
    mailboxSetting: `${prefix}mailbox`,
    permission: "Calendars.ReadWrite",
    userAgent: `calsync-master/${VERSION}`,
  });
  return await createMicrosoft365Destination({
    id: config.id,
    client,
    mailbox: config.mailbox,
    calendarName: config.calendar_name || null,
    timezone: config.timezone || null,
    graphUrl: config.graph_url,
    settingNames: { mailbox: `${prefix}mailbox`, calendarName: `${prefix}calendar_name` },
  });
}

/**
 * Connects to the destination `config` describes; `prefix` names its fields in messages.
 * The EWS client library is loaded only for an EWS destination: it holds about 20 MiB of
 * heap and 50 MiB of resident memory that masters writing elsewhere need not carry.
 */
async function connect(config: DestinationConfig, prefix: string): Promise<Destination> {
  switch (config.type) {
    case "caldav":
      return await createCalDavDestination(config);
    case "ews": {
      const { createEwsDestination } = await import("./ews.ts");
      return await createEwsDestination({
        id: config.id,
        url: config.url,
        username: config.username,
        password: config.password,
        auth: config.auth,
        calendar: config.calendar || null,
        caFile: config.ca_file || null,
        tlsInsecure: config.tls_insecure,
        timezone: config.timezone || null,
      });
    }
    case "microsoft365":
      return await connectMicrosoft365(config, prefix);
  }
}

/** The destination described by `config`. */
export function openDestination(loaded: LoadedDestinationConfig): ConfiguredDestination {
  const { credentials_setting, settings_prefix, ...config } = loaded;
  let digest: Promise<string> | null = null;
  return {
    id: config.id,
    type: config.type,
    displayUrl: configDisplayUrl(config),
    include: sourceFilter(config.sources),
    credentialsSetting: credentials_setting,
    settingsDigest: () => digest ??= digestOf(config),
    open: connectOnce(() => connect(config, settings_prefix ?? "")),
  };
}
