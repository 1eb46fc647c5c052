/**
 * An in-memory destination with the semantics of a real server (etags, conditional
 * writes, a change token), counting every request and able to fail or "crash" at any
 * step, so the reconciler can be tested fast and under faults. It behaves like CalDAV
 * (the client names items, one write per request) or like EWS (the server names items,
 * writes go in batches).
 *
 * @module
 */
import {
  type BatchWrites,
  type Destination,
  DestinationError,
  type DestinationItem,
  type ItemResult,
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

type Method =
  | "changeToken"
  | "list"
  | "get"
  | "create"
  | "update"
  | "remove"
  | "createBatch"
  | "updateBatch"
  | "removeBatch";

/**
 * `caldav` (the default): the client names items (`hrefFor`) and writes one per request.
 * `ews`: the server names items and writes in batches of `batchSize`.
 */
export type MemoryFlavour = { kind: "caldav" } | { kind: "ews"; batchSize: number };

/**
 * Ways real servers fall short, to prove the reconciler does not rely on them: SOGo
 * overwrites despite `If-None-Match: *` and deletes despite a stale `If-Match`, and
 * answers some listings with nothing.
 */
export type MemoryQuirks = {
  /** Writes and deletes ignore etags and `If-None-Match`. */
  ignoresPreconditions?: boolean;
  /** `list` answers an empty listing. */
  listsNothing?: boolean;
};

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
    createBatch: 0,
    updateBatch: 0,
    removeBatch: 0,
  };
  readonly hrefFor?: (item: DestinationItem) => string;
  readonly batch?: BatchWrites;
  #version = 0;
  #ids = 0;
  #failures: { method: Method; error: DestinationError }[] = [];
  #crashAfter: { method: Method; countdown: number } | null = null;
  /** The server's shortcomings to imitate; tests may change them at any time. */
  quirks: MemoryQuirks = {};

  /** Creates an empty destination with the given id. */
  constructor(
    readonly id = "memory",
    readonly displayUrl = "memory:",
    flavour: MemoryFlavour = { kind: "caldav" },
  ) {
    if (flavour.kind === "caldav") {
      this.hrefFor = (item) => `/cal/${item.uid}.ics`;
      return;
    }
    this.batch = {
      batchSize: flavour.batchSize,
      createBatch: (items) => this.#each("createBatch", items, (i) => this.#create(i)),
      updateBatch: (requests) =>
        this.#each("updateBatch", requests, (r) => this.#update(r.href, r.etag, r.item)),
      removeBatch: (requests) =>
        this.#each("removeBatch", requests, (r) => this.#remove(r.href, r.etag)),
    };
  }

  /** Makes the next call of `method` fail with `error` (queued in order). */
  failNext(method: Method, error: DestinationError): void {
    this.#failures.push({ method, error });
  }

  /** Makes the `n`th next call of `method` do its write and then throw `InjectedCrash`. */
  crashAfter(method: Method, n = 1): void {
    this.#crashAfter = { method, countdown: n };
  }

  /** Write requests since creation: creates, updates and removes, single or batched. */
  get writes(): number {
    const c = this.calls;
    return c.create + c.update + c.remove + c.createBatch + c.updateBatch + c.removeBatch;
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

  /** One request of `method` around `write`. */
  #request<T>(method: Method, write: () => T): Promise<T> {
    return Promise.try(() => {
      this.#enter(method);
      const value = write();
      this.#leave(method);
      return value;
    });
  }

  /** One batch request: a result per input, a crash only after all were written. */
  #each<T, R>(method: Method, inputs: T[], write: (input: T) => R): Promise<ItemResult<R>[]> {
    return this.#request(method, () =>
      inputs.map((input): ItemResult<R> => {
        try {
          return { ok: true, value: write(input) };
        } catch (err) {
          if (err instanceof DestinationError) return { ok: false, error: err };
          throw err;
        }
      }));
  }

  #precondition(href: string): DestinationError {
    return new DestinationError("precondition_failed", `${href} changed meanwhile (412)`);
  }

  /** Whether a write with `etag` may replace `current`; null means "if calsync owns it". */
  #matches(href: string, current: StoredItem, etag: string | null): boolean {
    if (this.quirks.ignoresPreconditions) return true;
    if (etag !== null) return current.etag === etag;
    if (current.key === null) {
      throw new DestinationError("rejected", `${href} is not calsync's; it is left alone`);
    }
    return true;
  }

  #store(href: string, item: DestinationItem): string {
    const etag = this.#bump();
    this.items.set(href, { href, etag, key: item.key, hash: item.hash, title: item.event.title });
    return etag;
  }

  #create(item: DestinationItem): { href: string; etag: string | null } {
    const href = this.hrefFor ? this.hrefFor(item) : `/ews/item-${++this.#ids}`;
    if (this.items.has(href) && !this.quirks.ignoresPreconditions) throw this.#precondition(href);
    return { href, etag: this.#store(href, item) };
  }

  #update(href: string, etag: string | null, item: DestinationItem): { etag: string | null } {
    const current = this.items.get(href);
    if (!current || !this.#matches(href, current, etag)) throw this.#precondition(href);
    return { etag: this.#store(href, item) };
  }

  #remove(href: string, etag: string | null): void {
    const current = this.items.get(href);
    if (!current) return;
    if (!this.#matches(href, current, etag)) throw this.#precondition(href);
    this.items.delete(href);
    this.#bump();
  }

  changeToken(): Promise<string | null> {
    return this.#request("changeToken", () => `ctag-${this.#version}`);
  }

  list(): Promise<RemoteItem[]> {
    return this.#request(
      "list",
      () => this.quirks.listsNothing ? [] : [...this.items.values()].map(({ title: _, ...r }) => r),
    );
  }

  get(href: string): Promise<RemoteItem | null> {
    return this.#request("get", () => {
      const item = this.items.get(href);
      if (!item) return null;
      const { title: _, ...remote } = item;
      return remote;
    });
  }

  create(item: DestinationItem): Promise<{ href: string; etag: string | null }> {
    return this.#request("create", () => this.#create(item));
  }

  update(
    href: string,
    etag: string | null,
    item: DestinationItem,
  ): Promise<{ etag: string | null }> {
    return this.#request("update", () => this.#update(href, etag, item));
  }

  remove(href: string, etag: string | null): Promise<void> {
    return this.#request("remove", () => this.#remove(href, etag));
  }
}
