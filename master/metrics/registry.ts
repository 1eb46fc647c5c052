/**
 * A small metrics registry rendering the Prometheus text exposition format, version 0.0.4:
 * counters, gauges and histograms with labels. These few lines are all the master needs,
 * where a client library would be one more dependency to pin and audit.
 *
 * @module
 */

/** The `Content-Type` of the text exposition format. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** One value per label name of a metric. */
export type Labels<L extends string> = Readonly<Record<L, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
// Names starting with `__` are reserved for Prometheus itself.
const LABEL_NAME = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A label value as the format quotes it: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (ch) => (ch === "\n" ? "\\n" : `\\${ch}`));
}

/** HELP text escapes only backslash and line feed; quotes stay as they are. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (ch) => (ch === "\n" ? "\\n" : "\\\\"));
}

/** A sample value; infinities and NaN are spelt as Prometheus (Go) parses them. */
function formatValue(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

/** `{a="x",b="y"}`, or nothing for no labels. */
function labelSet(pairs: [string, string][]): string {
  if (pairs.length === 0) return "";
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

/** What every metric type shares: its name, help, label names and series by label values. */
abstract class Metric<L extends string, S> {
  readonly #series = new Map<string, { pairs: [string, string][]; state: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
    readonly labelNames: readonly L[],
  ) {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name "${name}"`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label)) throw new Error(`${name}: invalid label name "${label}"`);
    }
  }

  /** The state of the series `labels` names, created by `init` on first use. */
  protected series(labels: Labels<L>, init: () => S): S {
    const values = this.labelNames.map((name) => labels[name]);
    const key = JSON.stringify(values);
    let entry = this.#series.get(key);
    if (!entry) {
      const pairs = this.labelNames.map((name, i): [string, string] => [name, values[i]]);
      entry = { pairs, state: init() };
      this.#series.set(key, entry);
    }
    return entry.state;
  }

  /** Forgets every series, for gauges recomputed from scratch at each scrape. */
  reset(): void {
    this.#series.clear();
  }

  /** The sample lines of one series. */
  protected abstract lines(pairs: [string, string][], state: S): string[];

  /** HELP and TYPE, then every series, in the order they were first seen. */
  render(): string[] {
    const out = [
      `# HELP ${this.name} ${escapeHelp(this.help)}`,
      `# TYPE ${this.name} ${this.type}`,
    ];
    for (const { pairs, state } of this.#series.values()) out.push(...this.lines(pairs, state));
    return out;
  }
}

/** A value that only goes up (until the process restarts). */
export class Counter<L extends string> extends Metric<L, { value: number }> {
  /** A counter with these label names; series appear as they are first counted. */
  constructor(name: string, help: string, labelNames: readonly L[]) {
    super(name, help, "counter", labelNames);
  }

  /** Adds `by` (0 creates the series, so it is exported before its first event). */
  inc(labels: Labels<L>, by = 1): void {
    if (!(by >= 0)) throw new Error(`${this.name}: a counter cannot go down (${by})`);
    this.series(labels, () => ({ value: 0 })).value += by;
  }

  protected lines(pairs: [string, string][], state: { value: number }): string[] {
    return [`${this.name}${labelSet(pairs)} ${formatValue(state.value)}`];
  }
}

/** A value that is set, such as a count read from the store. */
export class Gauge<L extends string> extends Metric<L, { value: number }> {
  /** A gauge with these label names; series appear as they are first set. */
  constructor(name: string, help: string, labelNames: readonly L[]) {
    super(name, help, "gauge", labelNames);
  }

  /** Sets the series' value. */
  set(labels: Labels<L>, value: number): void {
    this.series(labels, () => ({ value: 0 })).value = value;
  }

  protected lines(pairs: [string, string][], state: { value: number }): string[] {
    return [`${this.name}${labelSet(pairs)} ${formatValue(state.value)}`];
  }
}

type HistogramState = { counts: number[]; sum: number; count: number };

/** Observations counted into buckets by upper bound, with their sum and count. */
export class Histogram<L extends string> extends Metric<L, HistogramState> {
  readonly #bounds: readonly number[];

  /** `buckets` are the finite upper bounds, increasing; `+Inf` is always added. */
  constructor(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]) {
    super(name, help, "histogram", labelNames);
    if ((labelNames as readonly string[]).includes("le")) {
      throw new Error(`${name}: "le" is the bucket label of histograms`);
    }
    if (
      buckets.length === 0 ||
      buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]))
    ) {
      throw new Error(`${name}: buckets must be finite and increasing`);
    }
    this.#bounds = buckets;
  }

  /** Records one observation. */
  observe(labels: Labels<L>, value: number): void {
    const state = this.series(labels, () => ({
      counts: this.#bounds.map(() => 0),
      sum: 0,
      count: 0,
    }));
    // Counted in its own bucket only; rendering makes the counts cumulative.
    const i = this.#bounds.findIndex((bound) => value <= bound);
    if (i >= 0) state.counts[i]++;
    state.sum += value;
    state.count++;
  }

  protected lines(pairs: [string, string][], state: HistogramState): string[] {
    let cumulative = 0;
    const buckets = this.#bounds.map((bound, i) => {
      cumulative += state.counts[i];
      const labels = labelSet([...pairs, ["le", formatValue(bound)]]);
      return `${this.name}_bucket${labels} ${cumulative}`;
    });
    return [
      ...buckets,
      `${this.name}_bucket${labelSet([...pairs, ["le", "+Inf"]])} ${state.count}`,
      `${this.name}_sum${labelSet(pairs)} ${formatValue(state.sum)}`,
      `${this.name}_count${labelSet(pairs)} ${state.count}`,
    ];
  }
}

/** The metrics of one process, rendered together. */
export class Registry {
  readonly #metrics = new Map<string, Metric<string, unknown>>();

  #add<M extends Metric<string, unknown>>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new Error(`metric ${metric.name} exists already`);
    this.#metrics.set(metric.name, metric);
    return metric;
  }

  /** Registers a counter. */
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return this.#add(new Counter(name, help, labelNames));
  }

  /** Registers a gauge. */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return this.#add(new Gauge(name, help, labelNames));
  }

  /** Registers a histogram with the given finite bucket bounds. */
  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: readonly number[],
  ): Histogram<L> {
    return this.#add(new Histogram(name, help, labelNames, buckets));
  }

  /** Every metric in the text exposition format, in registration order. */
  render(): string {
    return [...this.#metrics.values()].flatMap((m) => m.render()).join("\n") + "\n";
  }
}
