/**
 * Keeping a refused password from locking the account: after a destination refuses
 * calsync's credentials it is not asked again with the same settings for 15 minutes,
 * unless an admin retries, and never more than three times in 15 minutes whatever
 * happens. mailcow's SOGo locks an account (its phone and web logins too) after ten
 * failed logins in 15 minutes; Exchange and Entra lock accounts after a few as well.
 * Pure code over the stored {@link AuthRefusal}.
 *
 * @module
 */
import type { AuthRefusal } from "../store/types.ts";
import { toInstant } from "../../shared/time.ts";

/** How long a refused destination is left alone, and the window failures count in. */
export const REFUSAL_WINDOW_MS = 15 * 60_000;
/** Refused logins allowed per destination within {@link REFUSAL_WINDOW_MS}. */
export const MAX_REFUSALS = 3;

/** The refused logins of `refusal` that still count at `now`. */
function recent(refusal: AuthRefusal | null, now: Date): string[] {
  return (refusal?.failures ?? []).filter((f) => now.getTime() - Date.parse(f) < REFUSAL_WINDOW_MS);
}

/**
 * Until when no login may be tried with `settings` (a digest of the destination's
 * settings), or null when one may be tried at `now`: not while the last refusal of the
 * same settings is fresh, and not while {@link MAX_REFUSALS} refusals, of any
 * settings, lie within the window.
 */
export function blockedUntil(
  refusal: AuthRefusal | null,
  settings: string,
  now: Date,
): string | null {
  if (refusal === null) return null;
  const failures = recent(refusal, now);
  if (failures.length >= MAX_REFUSALS) {
    return toInstant(
      new Date(Date.parse(failures[failures.length - MAX_REFUSALS]) + REFUSAL_WINDOW_MS),
    );
  }
  if (refusal.settings === settings && Date.parse(refusal.blocked_until) > now.getTime()) {
    return refusal.blocked_until;
  }
  return null;
}

/** `refusal` after one more refused login with `settings` at `now`. */
export function refusedAgain(
  refusal: AuthRefusal | null,
  settings: string,
  now: Date,
  message: string,
): AuthRefusal {
  return {
    failures: [...recent(refusal, now), toInstant(now)],
    blocked_until: toInstant(new Date(now.getTime() + REFUSAL_WINDOW_MS)),
    settings,
    message,
  };
}

/**
 * `refusal` after an admin asked to try again at `now` (the password was fixed on the
 * server, say): the wait is lifted, the count of refusals is kept.
 */
export function retryAllowed(refusal: AuthRefusal, now: Date): AuthRefusal {
  return { ...refusal, failures: recent(refusal, now), blocked_until: toInstant(now) };
}
