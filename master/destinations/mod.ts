/**
 * Opens configured destinations. Each connects when a reconcile first needs it, not at
 * start-up, so a destination that is down never keeps the master from taking agent
 * snapshots; a failed connection is tried again at the next reconcile.
 *
 * @module
 */
import type { SourceFilter } from "../sync/desired.ts";
import { createCalDavDestination } from "./caldav.ts";
import { type DestinationConfig, type LoadedDestinationConfig, sourceFilter } from "./config.ts";
import type { Destination } from "./types.ts";

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

/**
 * Connects to the destination `config` describes. The EWS client library is loaded only
 * for an EWS destination: it holds about 20 MiB of heap and 50 MiB of resident memory
 * that masters writing elsewhere need not carry.
 */
async function connect(config: DestinationConfig): Promise<Destination> {
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
  }
}

/** The destination described by `config`. */
export function openDestination(loaded: LoadedDestinationConfig): ConfiguredDestination {
  const { credentials_setting, ...config } = loaded;
  let digest: Promise<string> | null = null;
  return {
    id: config.id,
    type: config.type,
    displayUrl: displayUrl(config.url),
    include: sourceFilter(config.sources),
    credentialsSetting: credentials_setting,
    settingsDigest: () => digest ??= digestOf(config),
    open: connectOnce(() => connect(config)),
  };
}
