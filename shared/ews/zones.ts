/**
 * Time zones between calsync (IANA names) and Exchange (Windows names). Exchange keeps
 * a zone per appointment; it decides what "midnight" means for all-day events and how a
 * series moves across DST.
 *
 * @module
 */
import { findWindows } from "windows-iana";
import { ews } from "./library.ts";
import { resolveZone } from "../timezones.ts";

/** A zone both sides know: the IANA name and Exchange's zone for it. */
export interface EwsZone {
  iana: string;
  exchange: ews.TimeZoneInfo;
}

/**
 * Exchange's zone for an IANA zone, through CLDR's Windows names. A zone Windows does
 * not know (or none) becomes UTC, the one zone every Exchange has.
 */
export function ewsZone(iana: string | null): EwsZone {
  for (const windowsName of iana ? findWindows(iana) : []) {
    try {
      return { iana: iana!, exchange: ews.TimeZoneInfo.FindSystemTimeZoneById(windowsName) };
    } catch {
      // The library lacks this Windows zone; try the next name, then UTC.
    }
  }
  return { iana: "UTC", exchange: ews.TimeZoneInfo.Utc };
}

/** The IANA name of an appointment's zone as Exchange names it, or null when unknown. */
export function ianaOf(zone: ews.TimeZoneInfo | null | undefined): string | null {
  if (!zone) return null;
  return resolveZone(zone.Id ?? "") ?? resolveZone(zone.DisplayName ?? "") ?? null;
}
