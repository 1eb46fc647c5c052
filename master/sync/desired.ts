/**
 * Consolidation: what the destinations should hold, computed from every stored
 * occurrence and each source's settings. Pure code; the reconciler diffs its result
 * against what a destination holds.
 *
 * @module
 */
import { sha256Hex } from "../../shared/hash.ts";
import { type Occurrence, occurrenceKey } from "../../shared/model.ts";
import type { SourceSettings, StoredEvent } from "../../shared/protocol.ts";
import type { DestinationItem } from "../destinations/types.ts";

/** Looks up the settings of a source; undefined for a source the store does not know. */
export type SettingsLookup = (agentId: string, sourceId: string) => SourceSettings | undefined;

/** Says whether a source feeds a destination. */
export type SourceFilter = (agentId: string, sourceId: string) => boolean;

const PRIVACY_RANK = { full: 0, title: 1, busy: 2 } as const;

/**
 * The version of how copies are written, part of every content hash: raising it makes
 * each destination rewrite its items once. 2: copies carry no organizer or attendees
 * (they moved into the description), so that items written before, which made CalDAV
 * servers schedule, are replaced.
 */
const COPY_FORMAT = 2;

/** The destination UID of an occurrence key: stable, URL-safe and in calsync's namespace. */
export function destinationUid(key: string): string {
  return `calsync-${sha256Hex(key).slice(0, 40)}`;
}

/** Whether a source's filters let an occurrence through. */
export function passesFilters(event: Occurrence, s: SourceSettings): boolean {
  if (event.status === "cancelled") return false;
  if (s.skip_free && event.show_as === "free") return false;
  if (s.skip_private && event.sensitivity !== "normal") return false;
  if (s.skip_declined && event.response_status === "declined") return false;
  const categories = event.categories.map((c) => c.toLowerCase());
  const has = (list: string[]) => list.some((c) => categories.includes(c.toLowerCase()));
  if (s.categories_include.length > 0 && !has(s.categories_include)) return false;
  if (s.categories_exclude.length > 0 && has(s.categories_exclude)) return false;
  return true;
}

/** Applies a privacy mode: `title` keeps the title and time, `busy` only the time. */
export function applyPrivacy(event: Occurrence, privacy: SourceSettings["privacy"]): Occurrence {
  if (privacy === "full") return event;
  return {
    ...event,
    title: privacy === "busy" ? "Busy" : event.title,
    location: "",
    description: "",
    categories: [],
    organizer: null,
    attendees: [],
  };
}

type Contribution = {
  agent_id: string;
  source_id: string;
  event: Occurrence;
  s: SourceSettings;
  changed_at: string | null;
};

/**
 * Merges the contributions of several sources to one meeting. The freshest copy (latest
 * `last_modified`, then the first source by id) gives the content; the most restrictive
 * privacy of any contributor applies, so a source marked "busy" never leaks through
 * another; the first non-empty label applies; every contributor's category is added.
 */
function merge(contributions: Contribution[]): Occurrence {
  const ordered = contributions.toSorted((a, b) =>
    a.agent_id.localeCompare(b.agent_id) || a.source_id.localeCompare(b.source_id)
  );
  const base = ordered.reduce((best, c) =>
    (c.event.last_modified ?? "") > (best.event.last_modified ?? "") ? c : best
  );
  const privacy = ordered.reduce<SourceSettings["privacy"]>(
    (p, c) => (PRIVACY_RANK[c.s.privacy] > PRIVACY_RANK[p] ? c.s.privacy : p),
    "full",
  );
  const event = applyPrivacy(base.event, privacy);
  const label = ordered.find((c) => c.s.label !== "")?.s.label;
  const categories = [...event.categories];
  for (const c of ordered) {
    if (c.s.category !== "" && !categories.includes(c.s.category)) categories.push(c.s.category);
  }
  return { ...event, title: label ? `[${label}] ${event.title}` : event.title, categories };
}

/** The latest change of any contribution, or null when none is known. */
function latestChange(group: Contribution[]): string | null {
  let latest: string | null = null;
  for (const c of group) {
    if (c.changed_at !== null && (latest === null || c.changed_at > latest)) {
      latest = c.changed_at;
    }
  }
  return latest;
}

/**
 * The items a destination should hold: one per `(uid, recurrence_id)` over the sources
 * that `include` lets in, after each source's filters, privacy and labels.
 */
export function desiredItems(
  events: Iterable<StoredEvent>,
  settingsOf: SettingsLookup,
  include: SourceFilter = () => true,
): Map<string, DestinationItem> {
  const groups = new Map<string, Contribution[]>();
  for (const stored of events) {
    const { agent_id, source_id, changed_at = null, ...event } = stored;
    const s = settingsOf(agent_id, source_id);
    if (s === undefined || !include(agent_id, source_id) || !passesFilters(event, s)) continue;
    const key = occurrenceKey(event);
    const group = groups.get(key);
    const contribution = { agent_id, source_id, event, s, changed_at };
    if (group) group.push(contribution);
    else groups.set(key, [contribution]);
  }
  const items = new Map<string, DestinationItem>();
  for (const [key, group] of groups) {
    const event = merge(group);
    items.set(key, {
      key,
      uid: destinationUid(key),
      hash: sha256Hex(`${COPY_FORMAT}:${JSON.stringify(event)}`),
      event,
      changed_at: latestChange(group),
    });
  }
  return items;
}
