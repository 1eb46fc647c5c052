/**
 * What a destination copy of an occurrence holds: an inert item for display. Copies never
 * carry organizer or attendees as scheduling data, because CalDAV servers (SOGo, DAViCal)
 * and Exchange treat an item with them as a meeting, mail every attendee and write into
 * colleagues' calendars. Who organises and attends moves into the description instead.
 *
 * @module
 */
import type { Occurrence } from "./model.ts";

function person(p: { name: string; email: string }): string {
  if (p.name && p.email) return `${p.name} <${p.email}>`;
  return p.name || p.email;
}

/**
 * The description of a copy: the event's description, then a blank line and the
 * organizer and attendees, one per line (`Organizer: Ann <ann@example.org>`,
 * `Attendee: Bob <bob@example.org> (required, accepted)`).
 */
export function describedWithPeople(event: Occurrence): string {
  const people: string[] = [];
  if (event.organizer && person(event.organizer)) {
    people.push(`Organizer: ${person(event.organizer)}`);
  }
  for (const attendee of event.attendees) {
    const who = person(attendee);
    if (who) people.push(`Attendee: ${who} (${attendee.role}, ${attendee.status})`);
  }
  return [event.description, people.join("\n")].filter((part) => part !== "").join("\n\n");
}

/**
 * `event` as a copy that cannot schedule: no organizer, no attendees, and both named in
 * the description (see {@link describedWithPeople}).
 */
export function inertCopy(event: Occurrence): Occurrence {
  return { ...event, description: describedWithPeople(event), organizer: null, attendees: [] };
}
