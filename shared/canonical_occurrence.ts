/**
 * Recognising an occurrence already in the exact form `Occurrence` outputs, so that the
 * master can take it as it is. Agents send events as the schema outputs them; for those,
 * zod's parse only builds an equal copy, and the parse objects it makes per field were
 * most of what a 100,000-event snapshot grew the heap by. Anything else, and any field
 * this check does not know, goes through the schema as before.
 *
 * @module
 */
import {
  Attendee,
  AttendeeRole,
  EventStatus,
  inYearRange,
  Occurrence,
  OCCURRENCE_LIMITS as LIMITS,
  ParticipationStatus,
  Person,
  ResponseStatus,
  Sensitivity,
  ShowAs,
} from "./model.ts";
import { isCanonicalInstant, isPlainDate } from "./time.ts";

const OCCURRENCE_KEYS: readonly string[] = Object.keys(Occurrence.shape);
const PERSON_KEYS: readonly string[] = Object.keys(Person.shape);
const ATTENDEE_KEYS: readonly string[] = Object.keys(Attendee.shape);

const STATUSES = new Set<unknown>(EventStatus.options);
const SHOW_AS = new Set<unknown>(ShowAs.options);
const SENSITIVITIES = new Set<unknown>(Sensitivity.options);
const RESPONSES = new Set<unknown>(ResponseStatus.options);
const ROLES = new Set<unknown>(AttendeeRole.options);
const PARTICIPATION = new Set<unknown>(ParticipationStatus.options);

type Fields = Record<string, unknown>;

/**
 * Whether `value` is an object whose own keys are exactly `keys`, in that order: zod
 * outputs keys in schema order, and the content hash is taken over the JSON text.
 */
function hasKeys(value: unknown, keys: readonly string[]): value is Fields {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  let i = 0;
  for (const key in value) if (key !== keys[i++]) return false;
  return i === keys.length;
}

function isText(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length <= max;
}

function isPerson(value: unknown): boolean {
  return hasKeys(value, PERSON_KEYS) && isText(value.name, LIMITS.person) &&
    isText(value.email, LIMITS.person);
}

function isAttendee(value: unknown): boolean {
  return hasKeys(value, ATTENDEE_KEYS) && isText(value.name, LIMITS.person) &&
    isText(value.email, LIMITS.person) && ROLES.has(value.role) &&
    PARTICIPATION.has(value.status);
}

function isList(value: unknown, max: number, item: (v: unknown) => boolean): boolean {
  if (!Array.isArray(value) || value.length > max) return false;
  for (const v of value) if (!item(v)) return false;
  return true;
}

const isCategory = (v: unknown) => isText(v, LIMITS.category);

/** A start, end or recurrence id in canonical form within the years occurrences may use. */
function isTime(value: unknown, allDay: boolean): value is string {
  return typeof value === "string" &&
    (allDay ? isPlainDate(value) : isCanonicalInstant(value)) && inYearRange(value);
}

/**
 * Whether `Occurrence.parse(value)` would succeed and output a value equal to `value`
 * with its keys in the same order, so that `value` can be stored as it is. False means
 * only "not known to be canonical": such a value goes through the schema.
 */
export function isCanonicalOccurrence(value: unknown): value is Occurrence {
  if (!hasKeys(value, OCCURRENCE_KEYS)) return false;
  const o = value;
  if (typeof o.all_day !== "boolean") return false;
  const allDay = o.all_day;
  return typeof o.uid === "string" && o.uid.length >= 1 && o.uid.length <= LIMITS.uid &&
    (o.recurrence_id === null || isTime(o.recurrence_id, false) ||
      isTime(o.recurrence_id, true)) &&
    isTime(o.start, allDay) && isTime(o.end, allDay) && o.end >= o.start &&
    (o.timezone === null || isText(o.timezone, LIMITS.timezone)) &&
    isText(o.title, LIMITS.title) && isText(o.location, LIMITS.location) &&
    isText(o.description, LIMITS.description) && STATUSES.has(o.status) &&
    SHOW_AS.has(o.show_as) && SENSITIVITIES.has(o.sensitivity) &&
    isList(o.categories, LIMITS.categories, isCategory) &&
    (o.organizer === null || isPerson(o.organizer)) &&
    isList(o.attendees, LIMITS.attendees, isAttendee) &&
    (o.response_status === null || RESPONSES.has(o.response_status)) &&
    (o.last_modified === null ||
      (typeof o.last_modified === "string" && isCanonicalInstant(o.last_modified)));
}
