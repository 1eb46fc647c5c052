/**
 * The mailboxes behind the stand-in: calendars, stored events (singles and series masters
 * with their exceptions and deleted occurrences), the `transactionId`s seen, a change
 * sequence for delta queries with tombstones of deleted events, and the meeting messages
 * Exchange would have sent.
 *
 * @module
 */
import type { Event, SingleValueLegacyExtendedProperty } from "@microsoft/microsoft-graph-types";
import { eventId } from "./ids.ts";
import { occurrenceStarts } from "./recurrence.ts";
import { wallClock } from "./zones.ts";

/** A calendar of a mailbox. */
export interface StoredCalendar {
  id: string;
  name: string;
  isDefault: boolean;
}

/** A change of one occurrence of a series (a Graph `exception`). */
export interface StoredException {
  /** The fields changed for this occurrence only. */
  fields: Event;
  startMs: number;
  endMs: number;
  changeKey: string;
  modifiedMs: number;
  seq: number;
}

/** A stored event: a single instance or a series master. */
export interface StoredEvent {
  serial: number;
  id: string;
  /** The owner's UPN (lower case). */
  mailbox: string;
  calendarId: string;
  /** The writable Graph properties as last written (start/end in the client's zones). */
  fields: Event;
  /** Extended MAPI properties set on the event. */
  extended: SingleValueLegacyExtendedProperty[];
  startMs: number;
  endMs: number;
  changeKey: string;
  iCalUId: string;
  createdMs: number;
  modifiedMs: number;
  /** The change sequence of the last write to the event itself. */
  seq: number;
  /** Changed occurrences by original start. */
  exceptions: Map<number, StoredException>;
  /** Deleted occurrences' original starts. */
  deletedOccurrences: Set<number>;
}

/** What delta remembers of something deleted: the event as it was, or one occurrence. */
export interface Tombstone {
  seq: number;
  calendarId: string;
  event: StoredEvent;
  /** Set when only one occurrence of `event` was deleted. */
  originalStartMs: number | null;
}

/** A meeting message Exchange sends on the organizer's behalf. */
export interface SentMessage {
  mailbox: string;
  eventId: string;
  kind: "invitation" | "update" | "cancellation";
  recipients: string[];
}

/** The duration of a series' occurrences. */
export const durationOf = (event: StoredEvent) => event.endMs - event.startMs;

/** The original starts of a series' occurrences overlapping `[fromMs, toMs)`. */
export function seriesStarts(event: StoredEvent, fromMs: number, toMs: number): number[] {
  const zone = event.fields.start!.timeZone ?? "UTC";
  return occurrenceStarts(
    event.fields.recurrence!,
    wallClock(event.startMs, zone).toPlainTime(),
    zone,
    fromMs,
    toMs,
    Math.max(durationOf(event), 1),
  );
}

/** One mailbox. */
export class Mailbox {
  readonly calendars: StoredCalendar[];
  readonly events = new Map<number, StoredEvent>();
  readonly transactions = new Map<string, number>();
  readonly tombstones: Tombstone[] = [];
  timeZone: string;

  constructor(readonly upn: string, timeZone: string, private readonly store: Store) {
    this.timeZone = timeZone;
    this.calendars = [{ id: this.#calendarId("Calendar"), name: "Calendar", isDefault: true }];
  }

  #calendarId(name: string): string {
    return "AAMkAGCal" + btoa(`${this.upn}|${name}`).replace(/\//g, "_").replace(/\+/g, "-");
  }

  /** Adds a calendar; returns its id. */
  addCalendar(name: string): string {
    const calendar = { id: this.#calendarId(name), name, isDefault: false };
    this.calendars.push(calendar);
    return calendar.id;
  }

  /** The default calendar. */
  get defaultCalendar(): StoredCalendar {
    return this.calendars.find((c) => c.isDefault)!;
  }

  /** A new event's id and bookkeeping, stored. */
  insert(
    calendarId: string,
    fields: Event,
    extended: SingleValueLegacyExtendedProperty[],
    startMs: number,
    endMs: number,
  ): StoredEvent {
    const serial = this.store.nextSerial();
    const now = this.store.now();
    const event: StoredEvent = {
      serial,
      id: eventId(this.upn, serial),
      mailbox: this.upn,
      calendarId,
      fields,
      extended,
      startMs,
      endMs,
      changeKey: this.store.changeKey(),
      iCalUId: "040000008200E00074C5B7101A82E00800000000" +
        crypto.randomUUID().replace(/-/g, "").toUpperCase(),
      createdMs: now,
      modifiedMs: now,
      seq: this.store.nextSeq(),
      exceptions: new Map(),
      deletedOccurrences: new Set(),
    };
    this.events.set(serial, event);
    return event;
  }

  /** Marks an event changed (new change key, sequence and modification time). */
  touch(target: StoredEvent | StoredException): void {
    target.changeKey = this.store.changeKey();
    target.modifiedMs = this.store.now();
    target.seq = this.store.nextSeq();
  }

  /** Deletes an event (a whole series for a master), leaving a tombstone for delta. */
  remove(event: StoredEvent): void {
    this.events.delete(event.serial);
    this.tombstones.push({
      seq: this.store.nextSeq(),
      calendarId: event.calendarId,
      event,
      originalStartMs: null,
    });
  }

  /** Deletes one occurrence of a series, leaving a tombstone for delta. */
  removeOccurrence(event: StoredEvent, originalStartMs: number): void {
    event.deletedOccurrences.add(originalStartMs);
    event.exceptions.delete(originalStartMs);
    this.tombstones.push({
      seq: this.store.nextSeq(),
      calendarId: event.calendarId,
      event,
      originalStartMs,
    });
  }
}

/** Every mailbox, the sequence counters and the sent meeting messages. */
export class Store {
  readonly mailboxes = new Map<string, Mailbox>();
  readonly sent: SentMessage[] = [];
  #serial = 0;
  #seq = 0;

  constructor(readonly now: () => number) {}

  /** The mailbox of a UPN (lower-cased), created with `timeZone` on first use. */
  mailbox(upn: string, timeZone = "UTC"): Mailbox {
    const key = upn.toLowerCase();
    let mailbox = this.mailboxes.get(key);
    if (!mailbox) {
      mailbox = new Mailbox(key, timeZone, this);
      this.mailboxes.set(key, mailbox);
    }
    return mailbox;
  }

  /** The next event serial. */
  nextSerial(): number {
    return ++this.#serial;
  }

  /** The next change sequence number. */
  nextSeq(): number {
    return ++this.#seq;
  }

  /** The current change sequence number. */
  get seq(): number {
    return this.#seq;
  }

  /** A fresh change key (Exchange's are base64 of 16 bytes or so). */
  changeKey(): string {
    return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  }
}
