/**
 * Zones for TZIDs that name no zone a database knows and come without a VTIMEZONE, as
 * real files write them: Windows display names (`(UTC-05:00) Eastern Time (US & Canada)`,
 * Exchange 2010's published calendars), and bare offsets (`UTC+01`, `(GMT +01:00)`,
 * `GMT+0530`). A display name maps to its Windows zone and from there to IANA, so DST
 * stays right; an offset alone gives a fixed-offset zone.
 *
 * The display names come from ews-javascript-api's table of Windows zones (already a
 * dependency for Exchange), which holds each zone's display name as Windows shows it.
 *
 * @module
 */
import { TimeZoneMappingData } from "ews-javascript-api/js/tzmapping.js";

/** What a TZID was taken to mean. */
export interface GuessedZone {
  /** An IANA zone, or null when only the offset is known. */
  iana: string | null;
  /** For a fixed offset: milliseconds east of UTC. */
  offsetMs: number;
  /** How it was found, for the warning: `Windows display name "…"` or `UTC offset +01:00`. */
  how: string;
}

const OFFSET_PREFIX = /^\(?\s*(?:UTC|GMT)\s*(?:([+-])\s*(\d{1,2})(?::?(\d{2}))?)?\s*\)?\s*/i;

/** Display name without its offset prefix, `&amp;` decoded, spaces and case folded. */
function normalized(label: string): string {
  return label.replace(/&amp;/gi, "&").replace(OFFSET_PREFIX, "").replace(/\s+/g, " ")
    .trim().toLowerCase();
}

/** The places a display name lists (`amsterdam`, `berlin`, …), for a fuzzy match. */
function citiesOf(label: string): string[] {
  return label.split(",").map((c) => c.trim()).filter((c) => c.length > 2);
}

interface WindowsZone {
  iana: string;
  offsetMinutes: number;
  cities: string[];
}

const byLabel = new Map<string, WindowsZone>();
const zones: WindowsZone[] = [];
for (const value of Object.values(TimeZoneMappingData)) {
  // Entries keyed by Windows id hold [IANA ids, display name, standard, daylight, dst, bias].
  if (!Array.isArray(value) || !Array.isArray(value[0]) || typeof value[1] !== "string") continue;
  const label = normalized(value[1]);
  const zone = {
    iana: value[0][0] as string,
    offsetMinutes: Number(value[5]),
    cities: citiesOf(label),
  };
  zones.push(zone);
  if (!byLabel.has(label)) byLabel.set(label, zone);
}

function formatOffset(ms: number): string {
  const minutes = Math.abs(ms) / 60_000;
  const hh = String(Math.floor(minutes / 60)).padStart(2, "0");
  const mm = String(minutes % 60).padStart(2, "0");
  return `${ms < 0 ? "-" : "+"}${hh}:${mm}`;
}

/**
 * The zone a non-standard TZID most likely means, or undefined when the name says
 * nothing usable. Display names match whole or, when Windows renamed a zone since, by a
 * city of the same offset; what remains of a leading `UTC±hh:mm` or `GMT±hh:mm` gives a
 * fixed offset.
 */
export function guessZone(tzid: string): GuessedZone | undefined {
  const name = tzid.trim().replace(/^"(.*)"$/, "$1").trim();
  const prefix = OFFSET_PREFIX.exec(name);
  const offsetMs = prefix && prefix[0].trim() !== ""
    ? (prefix[1] === "-" ? -1 : 1) *
      ((Number(prefix[2] ?? 0) * 60 + Number(prefix[3] ?? 0)) * 60_000)
    : null;
  const label = normalized(name);
  if (label !== "") {
    const exact = byLabel.get(label);
    if (exact) return { iana: exact.iana, offsetMs: 0, how: `Windows display name "${name}"` };
    const cities = citiesOf(label);
    const similar = zones.find((z) =>
      (offsetMs === null || z.offsetMinutes * 60_000 === offsetMs) &&
      z.cities.some((c) => cities.includes(c))
    );
    if (similar) {
      return { iana: similar.iana, offsetMs: 0, how: `Windows display name "${name}"` };
    }
  }
  if (offsetMs === null || Math.abs(offsetMs) > 14 * 3_600_000) return undefined;
  // Whole hours have an IANA name (with POSIX's inverted sign); others stay offsets.
  const hours = offsetMs / 3_600_000;
  const iana = offsetMs === 0
    ? "UTC"
    : Number.isInteger(hours)
    ? `Etc/GMT${hours > 0 ? "-" : "+"}${Math.abs(hours)}`
    : null;
  return { iana, offsetMs, how: `UTC offset ${formatOffset(offsetMs)} (no daylight saving)` };
}
