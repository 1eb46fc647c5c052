/**
 * Opens configured destinations. Each connects on first use, not at start-up, so a
 * destination that is down never keeps the master from taking agent snapshots; a failed
 * connection is tried again at the next reconcile.
 *
 * @module
 */
import { createCalDavDestination } from "./caldav.ts";
import type { DestinationConfig } from "./config.ts";
import type { Destination } from "./types.ts";

/** A URL without credentials, for status pages and logs. */
export function displayUrl(url: string): string {
  const u = new URL(url);
  u.username = "";
  u.password = "";
  return u.href;
}

/** A destination that connects on first use and again after a failed connection. */
class LazyDestination implements Destination {
  #connecting: Promise<Destination> | null = null;
  #connected: Destination | null = null;

  constructor(
    readonly id: string,
    readonly type: string,
    readonly displayUrl: string,
    private readonly connect: () => Promise<Destination>,
  ) {}

  #open(): Promise<Destination> {
    this.#connecting ??= this.connect().then(
      (d) => (this.#connected = d),
      (err) => {
        this.#connecting = null;
        throw err;
      },
    );
    return this.#connecting;
  }

  async changeToken() {
    return (await this.#open()).changeToken();
  }
  async list() {
    return (await this.#open()).list();
  }
  async get(href: string) {
    return (await this.#open()).get(href);
  }
  /** Only asked after a write, so the destination is connected by then. */
  hrefFor(item: Parameters<Destination["hrefFor"]>[0]): string {
    if (!this.#connected) throw new Error(`destination ${this.id} is not connected`);
    return this.#connected.hrefFor(item);
  }
  async create(item: Parameters<Destination["create"]>[0]) {
    return (await this.#open()).create(item);
  }
  async update(href: string, etag: string | null, item: Parameters<Destination["update"]>[2]) {
    return (await this.#open()).update(href, etag, item);
  }
  async remove(href: string, etag: string | null) {
    return (await this.#open()).remove(href, etag);
  }
}

/** The destination described by `config`, connecting lazily. */
export function openDestination(config: DestinationConfig): Destination {
  return new LazyDestination(
    config.id,
    config.type,
    displayUrl(config.url),
    () => createCalDavDestination(config),
  );
}
