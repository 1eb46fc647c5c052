/**
 * `/metrics`: a known sequence of requests through `app.request()`, then the exposition
 * parsed as Prometheus would, asserting exact counts, histogram invariants, that no label
 * leaks a token or a raw path, and who may scrape; and the registry's escaping.
 */
import assert from "node:assert/strict";
import { MemoryDestination } from "../../master/destinations/memory.ts";
import { configured } from "../../master/destinations/mod.ts";
import { DestinationError } from "../../master/destinations/types.ts";
import { escapeLabelValue, Registry } from "../../master/metrics/registry.ts";
import { parseSettings } from "../../master/settings.ts";
import { VERSION } from "../../shared/version.ts";
import { ADMIN_TOKEN, enrol, type TestMaster, testMaster, timed } from "../helpers/master_app.ts";

const METRICS_TOKEN = "metrics-token-for-tests-0123456789";
const WINDOW = { start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z" };

// ---------------------------------------------------------------------------------------------
// A parser of the text exposition format 0.0.4, as strict as this test needs.

type Sample = { name: string; labels: Record<string, string>; value: number };
type Exposition = { samples: Sample[]; types: Map<string, string>; helps: Map<string, string> };

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"\s*(?:,|$)/y;

function parseValue(text: string): number {
  if (text === "+Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (text === "NaN") return NaN;
  const n = Number(text);
  assert.ok(text !== "" && !Number.isNaN(n), `not a sample value: "${text}"`);
  return n;
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const at = LABEL.lastIndex;
    const m = LABEL.exec(text);
    assert.ok(m, `bad label syntax at ${at} in {${text}}`);
    assert.ok(!(m[1] in labels), `label ${m[1]} twice in {${text}}`);
    labels[m[1]] = m[2].replace(/\\([\\"n])/g, (_, c) => (c === "n" ? "\n" : c));
  }
  return labels;
}

/** The family a sample belongs to: its own name, or a histogram's without the suffix. */
function family(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return types.get(base) === "histogram" ? base : undefined;
}

function parseExposition(text: string): Exposition {
  assert.ok(text.endsWith("\n"), "the exposition ends with a line feed");
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Map<string, string>();
  for (const line of text.slice(0, -1).split("\n")) {
    if (line.startsWith("#")) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) (.*)$`).exec(line);
      if (!m) continue; // a plain comment
      const [, kind, name, rest] = m;
      if (kind === "TYPE") {
        assert.match(rest, /^(counter|gauge|histogram|summary|untyped)$/);
        assert.ok(!types.has(name), `TYPE of ${name} twice`);
        assert.ok(!samples.some((s) => s.name === name), `TYPE of ${name} after its samples`);
        types.set(name, rest);
      } else {
        helps.set(name, rest.replace(/\\([\\n])/g, (_, c) => (c === "n" ? "\n" : c)));
      }
      continue;
    }
    const m = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const sample = { name: m[1], labels: parseLabels(m[2] ?? ""), value: parseValue(m[3]) };
    assert.ok(family(sample.name, types), `${sample.name} has no TYPE before it`);
    samples.push(sample);
  }
  return { samples, types, helps };
}

/** The value of the one sample of `name` with exactly `labels`. */
function value(exp: Exposition, name: string, labels: Record<string, string>): number {
  const found = exp.samples.filter((s) =>
    s.name === name && JSON.stringify(Object.entries(s.labels).sort()) ===
      JSON.stringify(Object.entries(labels).sort())
  );
  assert.equal(found.length, 1, `one sample ${name}${JSON.stringify(labels)}`);
  return found[0].value;
}

/** Buckets cumulative, non-decreasing, up to `+Inf` equal to `_count`, with a `_sum`. */
function assertHistograms(exp: Exposition): number {
  let checked = 0;
  for (const [name, type] of exp.types) {
    if (type !== "histogram") continue;
    const series = new Map<string, Sample[]>();
    for (const s of exp.samples.filter((s) => s.name === `${name}_bucket`)) {
      const { le, ...rest } = s.labels;
      assert.ok(le !== undefined, `${name}_bucket has le`);
      const key = JSON.stringify(Object.entries(rest).sort());
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, buckets] of series) {
      const labels = Object.fromEntries(JSON.parse(key));
      const bounds = buckets.map((b) => parseValue(b.labels.le));
      assert.deepEqual(bounds, [...bounds].sort((a, b) => a - b), `${name} buckets in order`);
      assert.equal(bounds.at(-1), Infinity, `${name} ends with le="+Inf"`);
      buckets.forEach((b, i) => {
        if (i > 0) assert.ok(b.value >= buckets[i - 1].value, `${name} buckets cumulative`);
      });
      assert.equal(buckets.at(-1)!.value, value(exp, `${name}_count`, labels), "+Inf == _count");
      assert.ok(value(exp, `${name}_sum`, labels) >= 0, `${name}_sum`);
      checked++;
    }
  }
  return checked;
}

// ---------------------------------------------------------------------------------------------

function put(master: TestMaster, token: string, source: string, events: unknown[]) {
  return master.call("PUT", `/api/agents/pc1/sources/${source}/snapshot`, {
    token,
    body: { window: WINDOW, generated_at: master.clock.now.toISOString(), events },
  });
}

async function scrape(master: TestMaster, token: string): Promise<Exposition> {
  const res = await master.call("GET", "/metrics", { token });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await res.text());
}

async function reconcile(master: TestMaster) {
  const res = await master.call("POST", "/api/admin/reconcile", { token: ADMIN_TOKEN });
  assert.equal(res.status, 200);
  return (await res.json()).reports[0];
}

Deno.test("/metrics counts a known sequence of requests exactly", async () => {
  const dest = new MemoryDestination("wall");
  await using master = await testMaster({
    destinations: [configured(dest)],
    // Only the explicit reconciles below run, so the counts are exact.
    debounceMs: 3_600_000,
    metricsToken: METRICS_TOKEN,
  });
  const token = await enrol(master, "pc1");
  const beat = await master.call("POST", "/api/agents/pc1/heartbeat", { token, body: {} });
  assert.equal(beat.status, 200);
  const events = [timed("a", "2026-03-02T09:00:00Z"), timed("b", "2026-03-03T09:00:00Z")];
  assert.equal((await put(master, token, "main", events)).status, 200);
  assert.equal((await put(master, token, "main", events)).status, 200);
  assert.equal((await put(master, token, "main", [{ uid: "x" }])).status, 400);
  assert.equal((await put(master, token, "nope", events)).status, 404);
  assert.equal((await put(master, "not-an-agent-token-0123456789", "main", events)).status, 401);

  dest.failNext("create", new DestinationError("rejected", "refused"));
  assert.deepEqual(await reconcile(master).then((r) => [r.created, r.failed]), [1, 1]);
  assert.deepEqual(await reconcile(master).then((r) => [r.created, r.failed]), [1, 0]);
  dest.failNext("changeToken", new DestinationError("unauthorized", "wrong password"));
  assert.equal((await reconcile(master)).failed, 1);

  const created = await master.call("POST", "/api/admin/feeds", {
    token: ADMIN_TOKEN,
    body: { name: "Wall" },
  });
  assert.equal(created.status, 201);
  const feed = await created.json();
  assert.equal((await master.call("GET", feed.path)).status, 200);
  assert.equal((await master.call("GET", "/health")).status, 200);
  assert.equal((await master.call("GET", "/health")).status, 200);
  assert.equal((await master.call("GET", "/no/such/page")).status, 404);
  assert.equal((await master.call("GET", "/api/sync/status", { token: ADMIN_TOKEN })).status, 200);
  assert.equal((await master.call("GET", "/metrics")).status, 401);
  assert.equal((await master.call("GET", "/metrics", { token: token })).status, 401);

  const exp = await scrape(master, METRICS_TOKEN);

  assert.equal(value(exp, "calsync_build_info", { version: VERSION }), 1);
  assert.equal(value(exp, "calsync_agents", { state: "online" }), 1);
  assert.equal(value(exp, "calsync_agents", { state: "offline" }), 0);
  assert.equal(value(exp, "calsync_source_occurrences", { agent_id: "pc1", source_id: "main" }), 2);

  const snapshots = (source_id: string, result: string) =>
    value(exp, "calsync_snapshots_received_total", { agent_id: "pc1", source_id, result });
  assert.equal(snapshots("main", "applied"), 1);
  assert.equal(snapshots("main", "unchanged"), 1);
  assert.equal(snapshots("main", "rejected"), 1);
  assert.equal(snapshots("nope", "rejected"), 1);
  assert.equal(
    exp.samples.filter((s) => s.name === "calsync_snapshots_received_total").length,
    4,
    "a snapshot with a wrong token is not counted",
  );

  const writes = (op: string) =>
    value(exp, "calsync_destination_writes_total", { destination_id: "wall", op });
  assert.deepEqual(["create", "update", "delete", "adopt"].map(writes), [2, 0, 0, 0]);
  const errors = (kind: string) =>
    value(exp, "calsync_destination_errors_total", { destination_id: "wall", kind });
  assert.equal(errors("rejected"), 1, "the create refused");
  assert.equal(errors("unauthorized"), 1, "the run that could not start");
  assert.equal(
    value(exp, "calsync_reconcile_duration_seconds_count", { destination_id: "wall" }),
    3,
  );

  const routes = new Map<string, number>();
  for (const s of exp.samples.filter((s) => s.name === "calsync_http_requests_total")) {
    const key = `${s.labels.method} ${s.labels.route} ${s.labels.status}`;
    routes.set(key, s.value);
  }
  const feedRoute = [...routes.keys()].find((k) => k.startsWith("GET /feeds/"));
  assert.ok(feedRoute, "the feed request is counted");
  assert.match(feedRoute, /^GET \/feeds\/\S*:\w+\S* 200$/, "under its route pattern");
  const snapshot = "PUT /api/agents/:agent_id/sources/:source_id/snapshot";
  assert.deepEqual(
    Object.fromEntries(routes),
    {
      "POST /api/agents/register 200": 1,
      "POST /api/agents/:agent_id/heartbeat 200": 1,
      [`${snapshot} 200`]: 2,
      [`${snapshot} 400`]: 1,
      [`${snapshot} 404`]: 1,
      [`${snapshot} 401`]: 1,
      "POST /api/admin/reconcile 200": 3,
      "POST /api/admin/feeds 201": 1,
      [feedRoute]: 1,
      "GET /health 200": 2,
      "GET unmatched 404": 1,
      "GET /api/sync/status 200": 1,
      "GET /metrics 401": 2,
    },
  );
  assert.equal(
    value(exp, "calsync_http_request_duration_seconds_count", { method: "GET", route: "/health" }),
    2,
  );

  assert.ok(assertHistograms(exp) >= 2, "histograms were checked");
  const secrets = [feed.token, token, ADMIN_TOKEN, METRICS_TOKEN];
  for (const s of exp.samples) {
    for (const v of Object.values(s.labels)) {
      assert.ok(!secrets.some((t) => v.includes(t)), `${s.name} leaks a token: ${v}`);
      assert.doesNotMatch(v, /\/(pc1|main|nope|no\/such)\b/, `${s.name} has a raw path: ${v}`);
    }
  }
  for (const name of exp.types.keys()) {
    assert.match(name, /^calsync_/);
    assert.ok(exp.helps.get(name), `${name} has HELP`);
  }

  // The agent falls silent: a day later it counts as offline, as /api/sync/status says.
  master.clock.now = new Date(master.clock.now.getTime() + 86_400_000);
  const later = await scrape(master, ADMIN_TOKEN);
  assert.equal(value(later, "calsync_agents", { state: "online" }), 0);
  assert.equal(value(later, "calsync_agents", { state: "offline" }), 1);
  assert.equal(
    value(later, "calsync_http_requests_total", {
      method: "GET",
      route: "/metrics",
      status: "200",
    }),
    1,
    "the first scrape is counted once it has been answered",
  );
});

Deno.test("/metrics takes the admin token, and METRICS_TOKEN only when it is set", async () => {
  {
    await using master = await testMaster({ metricsToken: METRICS_TOKEN });
    assert.equal((await master.call("GET", "/metrics")).status, 401);
    const wrong = await master.call("GET", "/metrics", { token: "wrong-token-0123456789abcdef" });
    assert.equal(wrong.status, 401);
    assert.equal((await wrong.json()).error.code, "invalid_token");
    for (const token of [METRICS_TOKEN, ADMIN_TOKEN]) {
      assert.equal((await master.call("GET", "/metrics", { token })).status, 200);
    }
    // The metrics token opens nothing else.
    const status = await master.call("GET", "/api/sync/status", { token: METRICS_TOKEN });
    assert.equal(status.status, 401);
  }
  {
    await using master = await testMaster();
    const res = await master.call("GET", "/metrics", { token: METRICS_TOKEN });
    assert.equal(res.status, 401, "no METRICS_TOKEN configured: only the admin token");
  }
});

Deno.test("METRICS_TOKEN is optional and, when set, at least 16 characters", () => {
  assert.equal(parseSettings({}).metricsToken, undefined);
  assert.equal(parseSettings({ METRICS_TOKEN: METRICS_TOKEN }).metricsToken, METRICS_TOKEN);
  assert.throws(
    () => parseSettings({ METRICS_TOKEN: "short" }),
    /METRICS_TOKEN must be at least 16/,
  );
});

// ---------------------------------------------------------------------------------------------
// The registry

Deno.test("registry: label values escape backslash, double quote and line feed", () => {
  assert.equal(escapeLabelValue('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
  const registry = new Registry();
  const counter = registry.counter("t_total", 'help with "quotes", a \\ and\na second line', [
    "path",
  ]);
  const tricky = 'C:\\dir "x" } {y="z"}\nnext, line';
  counter.inc({ path: tricky }, 2);
  const text = registry.render();
  assert.equal(
    text,
    '# HELP t_total help with "quotes", a \\\\ and\\na second line\n' +
      "# TYPE t_total counter\n" +
      't_total{path="C:\\\\dir \\"x\\" } {y=\\"z\\"}\\nnext, line"} 2\n',
  );
  const exp = parseExposition(text);
  assert.equal(value(exp, "t_total", { path: tricky }), 2, "the parser reads the value back");
  assert.equal(exp.helps.get("t_total"), 'help with "quotes", a \\ and\na second line');
});

Deno.test("registry: histograms render cumulative buckets, +Inf, _sum and _count", () => {
  const registry = new Registry();
  const histogram = registry.histogram("t_seconds", "Times.", ["op"], [1, 2.5]);
  for (const v of [0.5, 1, 2, 7]) histogram.observe({ op: "x" }, v);
  const gauge = registry.gauge("t_gauge", "A gauge.", ["k"]);
  gauge.set({ k: "a" }, Infinity);
  gauge.set({ k: "b" }, -0.5);
  assert.equal(
    registry.render(),
    [
      "# HELP t_seconds Times.",
      "# TYPE t_seconds histogram",
      't_seconds_bucket{op="x",le="1"} 2',
      't_seconds_bucket{op="x",le="2.5"} 3',
      't_seconds_bucket{op="x",le="+Inf"} 4',
      't_seconds_sum{op="x"} 10.5',
      't_seconds_count{op="x"} 4',
      "# HELP t_gauge A gauge.",
      "# TYPE t_gauge gauge",
      't_gauge{k="a"} +Inf',
      't_gauge{k="b"} -0.5',
      "",
    ].join("\n"),
  );
  gauge.reset();
  assert.ok(!registry.render().includes("t_gauge{"), "reset forgets every series");
  assert.equal(assertHistograms(parseExposition(registry.render())), 1);
});

Deno.test("registry: refuses what Prometheus would not read", () => {
  const registry = new Registry();
  const counter = registry.counter("t_total", "T.", ["a"]);
  assert.throws(() => counter.inc({ a: "x" }, -1), /cannot go down/);
  assert.throws(() => registry.counter("t_total", "Again.", []), /exists already/);
  assert.throws(() => registry.counter("1bad", "T.", []), /invalid metric name/);
  assert.throws(() => registry.gauge("t_g", "T.", ["__reserved"]), /invalid label name/);
  assert.throws(() => registry.histogram("t_h", "T.", ["le"], [1]), /bucket label/);
  assert.throws(() => registry.histogram("t_h2", "T.", [], [2, 1]), /increasing/);
});
