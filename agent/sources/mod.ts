/**
 * The registry of calendar source types. Each type lives in one file beside this one and
 * is listed in {@linkcode SOURCE_TYPES}; the rest of the agent knows sources only through
 * {@linkcode SourceType}.
 *
 * @module
 */
import type { z } from "zod";
import type { Occurrence, TimeWindow } from "../../shared/model.ts";
import type { ReadWarning } from "../../shared/warnings.ts";
import type { FetchLike } from "../http.ts";
import { calDavSource } from "./caldav.ts";
import { exchangeSource } from "./exchange.ts";
import { icsSource } from "./ics.ts";
import { microsoft365Source } from "./microsoft365.ts";
import { outlookSource } from "./outlook.ts";

/** What a source may use while reading. */
export interface SourceContext {
  /** Only occurrences overlapping this window are wanted. */
  window: TimeWindow;
  /** Folder of the config file; relative paths in settings resolve against it. */
  configDir: string;
  /** HTTP access for sources that download. */
  fetch: FetchLike;
}

/** The outcome of reading a source. */
export interface SourceReading {
  /** Every occurrence overlapping the window, recurring series expanded. */
  occurrences: Occurrence[];
  /** Things skipped or guessed while reading, worth a log line but not a failure. */
  warnings: ReadWarning[];
}

/**
 * A kind of calendar source (`"type"` in the config).
 *
 * @typeParam Settings the validated type-specific keys of a configured source.
 */
export interface SourceType<Settings = unknown> {
  /** The config's `"type"` value. */
  readonly type: string;
  /**
   * Validates the whole config entry of a source and keeps the type's own keys. Issues
   * carry paths relative to the entry, so errors read `calendar_sources[1].url: …`.
   */
  readonly settings: z.ZodType<Settings>;
  /** Where the source reads from, safe to show (no passwords). */
  describe(settings: Settings): string;
  /** Reads the occurrences inside `context.window`; throws with a readable message. */
  read(settings: Settings, context: SourceContext): Promise<SourceReading>;
}

/** Source types by their config `"type"`. */
export type SourceRegistry = ReadonlyMap<string, SourceType>;

/** Builds a registry from source types, keyed by their `type`. */
export function sourceRegistry(types: SourceType[]): SourceRegistry {
  return new Map(types.map((t) => [t.type, t]));
}

/** Every source type this build of the agent supports. */
export const SOURCE_TYPES: SourceRegistry = sourceRegistry([
  icsSource,
  calDavSource,
  exchangeSource,
  outlookSource,
  microsoft365Source,
]);
