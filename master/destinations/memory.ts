/**
 * An in-memory destination with the semantics of a CalDAV collection (etags, conditional
 * writes, a change token), counting every request and able to fail or "crash" at any
 * step, so the reconciler can be tested fast and under faults.
 *
 * @module
 */
import {
  type Destination,
  DestinationError,
  type DestinationItem,
  type RemoteItem,
} from "./types.ts";

/** What the memory destination holds at one href. */
export type StoredItem = RemoteItem & { title: string };

/** Thrown by an injected crash: the write happened, then the process "died". */
export class InjectedCrash extends Error {
  /** Creates the crash for the named operation. */
  constructor(operation: string) {
    super(`injected crash after ${operation}`);
    this.name = "InjectedCrash";
  }
}

type Method = "changeToken" | "list" | "get" | "create" | "update" | "remove";

/** An in-memory `Destination` for tests. */
export class MemoryDestination implements Destination {
  readonly type = "memory";
  readonly items = new Map<string, StoredItem>();
  /** Requests by method. */
  readonly calls: Record<Method, number> = {
    changeToken: 0,
    list: 0,
    get: 0,
    create: 0,
    update: 0,
    remove: 0,
  };
  #version = 0;
  #failures: { method: Method; error: DestinationError }[] = [];
  #crashAfter: { method: Method; countdown: number } | null = null;

  /** Creates an empty destination with the given id. */
  constructor(readonly id = "memory", readonly displayUrl = "memory:") {}

  /** Makes the next call of `method` fail with `error` (queued in order). */
  failNext(method: Method, error: DestinationError): void {
    this.#failures.push({ method, error });
  }

  /** Makes the `n`th next call of `method` do its write and then throw `InjectedCrash`. */
  crashAfter(method: Method, n = 1): void {
    this.#crashAfter = { method, countdown: n };
  }

  /** Writes counted since creation: creates, updates and removes. */
  get writes(): number {
    return this.calls.create + this.calls.update + this.calls.remove;
  }

  /** Puts an item calsync does not own, as another client would. */
  putForeign(href: string, title: string): void {
    this.items.set(href, { href, etag: this.#bump(), key: null, hash: null, title });
  }

  /** Changes an item as a person would in their calendar app (marker kept). */
  editByHand(href: string, title: string): void {
    const item = this.items.get(href);
    if (!item) throw new Error(`nothing at ${href}`);
    this.items.set(href, { ...item, title, etag: this.#bump() });
  }

  /** Deletes an item as a person would. */
  deleteByHand(href: string): void {
    this.items.delete(href);
    this.#bump();
  }

  #bump(): string {
    return `"v${++this.#version}"`;
  }

  #enter(method: Method): void {
    this.calls[method]++;
    const i = this.#failures.findIndex((f) => f.method === method);
    if (i >= 0) throw this.#failures.splice(i, 1)[0].error;
  }

  #leave(method: Method): void {
    if (this.#crashAfter?.method === method && --this.#crashAfter.countdown === 0) {
      this.#crashAfter = null;
      throw new InjectedCrash(method);
    }
  }

  #precondition(href: string): DestinationError {
    return new DestinationError("precondition_failed", `${href} changed meanwhile (412)`);
  }

  /** Whether a write with `etag` may replace `current`; null means "if calsync owns it". */
  #matches(href: string, current: StoredItem, etag: string | null): boolean {
    if (etag !== null) return current.etag === etag;
    if (current.key === null) {
      throw new DestinationError("rejected", `${href} is not calsync's; it is left alone`);
    }
    return true;
  }

  changeToken(): Promise<string | null> {
    return Promise.try(() => {
      this.#enter("changeToken");
      return `ctag-${this.#version}`;
    });
  }

  list(): Promise<RemoteItem[]> {
    return Promise.try(() => {
      this.#enter("list");
      return [...this.items.values()].map(({ title: _, ...r }) => r);
    });
  }

  get(href: string): Promise<RemoteItem | null> {
    return Promise.try(() => {
      this.#enter("get");
      const item = this.items.get(href);
      if (!item) return null;
      const { title: _, ...remote } = item;
      return remote;
    });
  }

  hrefFor(item: DestinationItem): string {
    return `/cal/${item.uid}.ics`;
  }

  create(item: DestinationItem): Promise<{ href: string; etag: string | null }> {
    return Promise.try(() => {
      this.#enter("create");
      const href = this.hrefFor(item);
      if (this.items.has(href)) throw this.#precondition(href);
      const etag = this.#bump();
      this.items.set(href, { href, etag, key: item.key, hash: item.hash, title: item.event.title });
      this.#leave("create");
      return { href, etag };
    });
  }

  update(
    href: string,
    etag: string | null,
    item: DestinationItem,
  ): Promise<{ etag: string | null }> {
    return Promise.try(() => {
      this.#enter("update");
      const current = this.items.get(href);
      if (!current || !this.#matches(href, current, etag)) throw this.#precondition(href);
      const next = this.#bump();
      this.items.set(href, {
        href,
        etag: next,
        key: item.key,
        hash: item.hash,
        title: item.event.title,
      });
      this.#leave("update");
      return { etag: next };
    });
  }

  remove(href: string, etag: string | null): Promise<void> {
    return Promise.try(() => {
      this.#enter("remove");
      const current = this.items.get(href);
      if (!current) return;
      if (!this.#matches(href, current, etag)) throw this.#precondition(href);
      this.items.delete(href);
      this.#bump();
      this.#leave("remove");
    });
  }
}
