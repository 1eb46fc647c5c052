/**
 * The management page: sign-in, the dashboard at `/`, and the admin actions under
 * `/ui/`, each a confirmation page (GET) whose form does the action (POST). It is plain
 * server-rendered HTML: no script, so it works with JavaScript off.
 *
 * @module
 */
import type { Context } from "hono";
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { TokenName } from "../../shared/protocol.ts";
import {
  issueCredential,
  removeAgent,
  removeSource,
  resetAgent,
  revokeCredential,
} from "../admin_actions.ts";
import type { AppContext } from "../context.ts";
import { readForm } from "../http/body.ts";
import { publicOrigin } from "../http/client_address.ts";
import { QueryDate } from "../http/dates.ts";
import { validationError } from "../http/errors.ts";
import { hashToken, sameHash } from "../secrets.ts";
import { syncStatus } from "../status.ts";
import { isKnownZone } from "../../shared/timezones.ts";
import type { CredentialKind } from "../store/types.ts";
import type { ReconcileReport } from "../sync/reconcile.ts";
import { type CalendarMode, layoutCalendar, localDate, viewRange } from "../ui/calendar_view.ts";
import { ACTIVITY_PAGE_HOURS, ACTIVITY_PAGE_LIMIT } from "../ui/activity.tsx";
import { Dashboard } from "../ui/dashboard.tsx";
import { ConfirmPage, IssuedPage, LoginPage, MessagePage } from "../ui/pages.tsx";
import { currentSession, type Session, signIn, signOut, validCsrf } from "../ui/session.ts";
import { STYLESHEET } from "../ui/style.ts";

type Env = { Variables: { session: Session; form: URLSearchParams } };

/** The credential kinds the page manages, by their path segment. */
const KINDS = {
  "feeds": { kind: "feed", noun: "feed" },
  "read-tokens": { kind: "read", noun: "read token" },
} as const satisfies Record<string, { kind: Exclude<CredentialKind, "session">; noun: string }>;

const FORM_LIMIT_BYTES = 64 * 1024;

/**
 * The `csrf` field as this master issues it (a SHA-256 in hex). Checked before the
 * constant-time compare, which needs two values of the same byte length.
 */
const CsrfField = z.string().regex(/^[0-9a-f]{64}$/);

/** The dashboard's query: `date` is optional, but when given it must be a supported date. */
const DashboardQuery = z.object({ date: QueryDate.optional() });

/** Titles of error pages by status, so that the page says what kind of refusal it is. */
const ERROR_TITLES: Partial<Record<number, string>> = {
  400: "Bad request",
  403: "Not allowed",
  404: "Not found",
  413: "Too large",
  429: "Not now",
};

/** What a finished action says on the dashboard, by the `done` code it redirects with. */
function noticeFor(done: string | undefined, what: string): string | null {
  switch (done) {
    case "reset":
      return `Agent “${what}” was reset: it may now enrol again with the enrollment token.`;
    case "agent-removed":
      return `Agent “${what}” was removed; its events are leaving the destinations.`;
    case "source-removed":
      return `Source “${what}” was removed; its events are leaving the destinations.`;
    case "revoked":
      return `“${what}” was revoked; its token no longer works.`;
    case "reconciled":
      return `Reconcile finished: ${what}.`;
    default:
      return null;
  }
}

function summary(reports: ReconcileReport[]): string {
  if (reports.length === 0) return "no destination is configured";
  return reports.map((r) =>
    r.skipped
      ? `${r.destination_id}: reconciled by another master`
      : r.refused_until
      ? `${r.destination_id}: not contacted, its credentials were refused (${r.errors[0]})`
      : `${r.destination_id}: ${r.created} created, ${r.updated} updated, ${r.deleted} deleted` +
        (r.failed > 0 ? `, ${r.failed} failed (${r.errors[0] ?? "see the log"})` : "")
  ).join("; ");
}

function done(c: Context, code: string, what: string) {
  return c.redirect(`/?done=${code}&what=${encodeURIComponent(what)}`, 303);
}

/** Whether `path` is a page of the management site, whose errors are HTML pages. */
export function isPagePath(path: string): boolean {
  return path === "/" || path === "/login" || path === "/logout" || path.startsWith("/ui/");
}

/** An error of a management page as an HTML page (such as a 429 after failed sign-ins). */
export function pageError(c: Context, status: ContentfulStatusCode, message: string): Response {
  const title = ERROR_TITLES[status] ?? "Refused";
  return c.html(<MessagePage csrf={null} title={title} message={message} />, status) as Response;
}

/** Routes of the management page. */
export function uiRoutes(ctx: AppContext): Hono<Env> {
  const app = new Hono<Env>();
  const defaultZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  app.get("/static/style.css", (c) =>
    c.body(STYLESHEET, 200, {
      "Content-Type": "text/css; charset=utf-8",
      "Cache-Control": "public, max-age=3600",
    }));

  app.get("/login", async (c) => {
    if (await currentSession(c, ctx)) return c.redirect("/", 303);
    return c.html(<LoginPage />);
  });

  app.post("/login", async (c) => {
    const form = await readForm(c.req.raw, FORM_LIMIT_BYTES);
    const token = (form.get("token") ?? "").trim();
    if (token === "" || !sameHash(hashToken(token), ctx.adminTokenHash)) {
      return c.html(
        <LoginPage
          error={token === ""
            ? "Enter the admin token."
            : "That is not the admin token. Check for a missing character, or read it from the master's DATA_DIR."}
        />,
        401,
      );
    }
    await signIn(c, ctx);
    ctx.logger.log("info", "management page: signed in");
    return c.redirect("/", 303);
  });

  // Every other page needs a session; a form post also its CSRF token.
  const requireSession = async (c: Context<Env>, next: () => Promise<void>) => {
    const session = await currentSession(c, ctx);
    if (!session) return c.redirect("/login", 303);
    c.set("session", session);
    if (c.req.method === "POST") {
      const form = await readForm(c.req.raw, FORM_LIMIT_BYTES);
      const csrf = CsrfField.safeParse(form.get("csrf"));
      if (!csrf.success || !validCsrf(session, csrf.data)) {
        const why = csrf.success
          ? "This form was not sent from a current page of this master."
          : "The form's csrf field is missing or is not a value this master issues (64 hex digits).";
        return c.html(
          <MessagePage
            csrf={session.csrf}
            title="Form expired"
            message={`${why} Go back, reload the page and try again.`}
          />,
          403,
        );
      }
      c.set("form", form);
    }
    await next();
  };
  app.use("/", requireSession);
  app.use("/logout", requireSession);
  app.use("/ui/*", requireSession);

  app.post("/logout", async (c) => {
    await signOut(c, ctx, c.get("session"));
    return c.redirect("/login", 303);
  });

  app.get("/", async (c) => {
    const q = c.req.query();
    const checked = DashboardQuery.safeParse(q);
    if (!checked.success) throw validationError(checked.error, q);
    const mode: CalendarMode = q.view === "month" ? "month" : "week";
    const zone = q.tz && isKnownZone(q.tz) ? q.tz : defaultZone;
    const now = ctx.now();
    const anchor = checked.data.date ?? localDate(now, zone);
    const range = viewRange(mode, anchor, zone);
    const since = new Date(now.getTime() - ACTIVITY_PAGE_HOURS * 3_600_000).toISOString();
    const [status, feeds, readTokens, events, activity] = await Promise.all([
      syncStatus(ctx),
      ctx.store.listCredentials("feed", now.toISOString()),
      ctx.store.listCredentials("read", now.toISOString()),
      ctx.store.listEvents({ start: range.start, end: range.end }),
      Promise.all(ctx.sync.destinations.map(async ({ id }) => ({
        destination_id: id,
        entries: await ctx.store.listActivity({
          destination_id: id,
          since,
          limit: ACTIVITY_PAGE_LIMIT,
        }),
      }))),
    ]);
    const query = (p: { view?: string; date?: string; tz?: string }) => {
      const params = new URLSearchParams({ view: mode, date: anchor, tz: zone, ...p });
      if (params.get("date") === "") params.delete("date");
      return `/?${params}`;
    };
    let notice = noticeFor(q.done, q.what ?? "");
    if (q.tz && !isKnownZone(q.tz)) {
      notice =
        `“${q.tz}” is not a time zone name; showing ${zone}. Use a name such as Europe/Berlin.`;
    }
    return c.html(
      <Dashboard
        d={{
          csrf: c.get("session").csrf,
          status,
          feeds,
          readTokens,
          activity,
          view: layoutCalendar(mode, anchor, zone, events, now),
          now,
          notice,
          query,
        }}
      />,
    );
  });

  const notFound = (c: Context<Env>, message: string) =>
    c.html(<MessagePage csrf={c.get("session").csrf} title="Not found" message={message} />, 404);

  app.get("/ui/agents/:agent_id/reset", async (c) => {
    const agent = await ctx.store.getAgent(c.req.param("agent_id"));
    if (!agent) return notFound(c, `No agent “${c.req.param("agent_id")}” is registered.`);
    return c.html(
      <ConfirmPage
        csrf={c.get("session").csrf}
        title={`Reset the credentials of “${agent.agent_name}”?`}
        action={`/ui/agents/${encodeURIComponent(agent.agent_id)}/reset`}
        button="Reset credentials"
        danger
      >
        <p>
          The agent's token stops working at once. The agent enrols again with the enrollment token
          at its next sync, if its configuration has one; its sources and events stay.
        </p>
      </ConfirmPage>,
    );
  });

  app.post("/ui/agents/:agent_id/reset", async (c) => {
    const agentId = c.req.param("agent_id");
    if (!(await resetAgent(ctx, agentId))) {
      return notFound(c, `No agent “${agentId}” is registered.`);
    }
    return done(c, "reset", agentId);
  });

  app.get("/ui/agents/:agent_id/remove", async (c) => {
    const agent = await ctx.store.getAgent(c.req.param("agent_id"));
    if (!agent) return notFound(c, `No agent “${c.req.param("agent_id")}” is registered.`);
    const events = agent.sources.reduce((n, s) => n + s.event_count, 0);
    return c.html(
      <ConfirmPage
        csrf={c.get("session").csrf}
        title={`Remove the agent “${agent.agent_name}”?`}
        action={`/ui/agents/${encodeURIComponent(agent.agent_id)}/remove`}
        button="Remove agent and its events"
        danger
      >
        <p>
          Its {agent.sources.length} sources and {events}{" "}
          events are deleted from calsync, and their items leave every destination.
        </p>
        <p>
          Stop or uninstall the agent first: while it still has the enrollment token it will enrol
          again at its next sync and bring its events back.
        </p>
      </ConfirmPage>,
    );
  });

  app.post("/ui/agents/:agent_id/remove", async (c) => {
    const agentId = c.req.param("agent_id");
    if (!(await removeAgent(ctx, agentId))) {
      return notFound(c, `No agent “${agentId}” is registered.`);
    }
    return done(c, "agent-removed", agentId);
  });

  app.get("/ui/agents/:agent_id/sources/:source_id/remove", async (c) => {
    const { agent_id, source_id } = c.req.param();
    const agent = await ctx.store.getAgent(agent_id);
    const source = agent?.sources.find((s) => s.source_id === source_id);
    if (!agent || !source) {
      return notFound(c, `Agent “${agent_id}” has no source “${source_id}”.`);
    }
    return c.html(
      <ConfirmPage
        csrf={c.get("session").csrf}
        title={`Remove the source “${source.name}” of “${agent.agent_name}”?`}
        action={`/ui/agents/${encodeURIComponent(agent_id)}/sources/${
          encodeURIComponent(source_id)
        }/remove`}
        button="Remove source and its events"
        danger
      >
        <p>
          Its {source.event_count}{" "}
          events are deleted from calsync, and their items leave every destination.
        </p>
        <p>
          Remove it from the agent's configuration too: an agent that still reads it sends it again
          at its next sync.
        </p>
      </ConfirmPage>,
    );
  });

  app.post("/ui/agents/:agent_id/sources/:source_id/remove", async (c) => {
    const { agent_id, source_id } = c.req.param();
    if (!(await removeSource(ctx, agent_id, source_id))) {
      return notFound(c, `Agent “${agent_id}” has no source “${source_id}”.`);
    }
    return done(c, "source-removed", `${agent_id}/${source_id}`);
  });

  app.get("/ui/reconcile", (c) =>
    c.html(
      <ConfirmPage
        csrf={c.get("session").csrf}
        title="Reconcile every destination now?"
        action="/ui/reconcile"
        button="Reconcile now"
      >
        <p>
          calsync lists each destination and writes what differs from the consolidated calendar. It
          does this by itself after every change and every SYNC_INTERVAL_MINUTES; run it by hand
          after fixing a destination's settings or credentials.
        </p>
      </ConfirmPage>,
    ));

  app.post("/ui/reconcile", async (c) => {
    const reports = await ctx.sync.run(true);
    return done(c, "reconciled", summary(reports));
  });

  app.get("/ui/strays", (c) =>
    c.html(
      <ConfirmPage
        csrf={c.get("session").csrf}
        title="Delete stray items from the destinations?"
        action="/ui/strays"
        button="Delete stray items"
        danger
      >
        <p>
          Strays are items calsync wrote that no source holds any more and that calsync does not
          remember writing: they are left behind when the master's data is lost or restored from an
          older backup. calsync keeps them by itself, because they may belong to agents that have
          not synced again yet.
        </p>
        <p>
          Let every agent sync once first: whatever they still hold is then no longer a stray. Items
          calsync did not write are never touched.
        </p>
      </ConfirmPage>,
    ));

  app.get("/ui/destinations/:destination_id/retry", (c) => {
    const { destination_id } = c.req.param();
    if (!ctx.sync.destinations.some((d) => d.id === destination_id)) {
      return notFound(c, `There is no destination “${destination_id}”.`);
    }
    return c.html(
      <ConfirmPage
        csrf={c.get("session").csrf}
        title={`Try “${destination_id}” again?`}
        action={`/ui/destinations/${destination_id}/retry`}
        button="Retry now"
      >
        <p>
          The server refused calsync's user name or password for this destination, so calsync
          stopped asking it: every refused login counts towards the server's lockout (mailcow blocks
          an account for 15 minutes after 10 failures, its phone and web logins too).
        </p>
        <p>
          Retry once the password is fixed on the server. A password set in calsync's own
          configuration takes effect when the master restarts, without waiting. calsync never tries
          more than three refused logins in 15 minutes.
        </p>
      </ConfirmPage>,
    );
  });

  app.post("/ui/destinations/:destination_id/retry", async (c) => {
    const { destination_id } = c.req.param();
    const outcome = await ctx.sync.retryRefused(destination_id);
    if (outcome === null) return notFound(c, `There is no destination “${destination_id}”.`);
    if ("until" in outcome) {
      return pageError(
        c,
        429,
        `The server refused these credentials three times in 15 minutes; so that the account ` +
          `is not locked, calsync tries no login before ${outcome.until}.`,
      );
    }
    return done(c, "reconciled", summary(outcome.reports));
  });

  app.post("/ui/strays", async (c) => {
    const reports = await ctx.sync.run(true, true);
    return done(c, "reconciled", summary(reports));
  });

  for (const [segment, { kind, noun }] of Object.entries(KINDS)) {
    const nameOf = (c: Context<Env>, value: unknown) => {
      const name = typeof value === "string" ? value.trim() : "";
      if (!TokenName.safeParse(name).success) {
        return c.html(
          <MessagePage
            csrf={c.get("session").csrf}
            title={`No ${noun} created`}
            message={`Give the ${noun} a name of 1 to 256 characters, such as the app or person it is for.`}
          />,
          400,
        );
      }
      return name;
    };

    app.get(`/ui/${segment}/new`, (c) => {
      const name = nameOf(c, c.req.query("name"));
      if (typeof name !== "string") return name;
      return c.html(
        <ConfirmPage
          csrf={c.get("session").csrf}
          title={`Create the ${noun} “${name}”?`}
          action={`/ui/${segment}/new`}
          button={`Create ${noun}`}
          fields={{ name }}
        >
          <p>
            {kind === "feed"
              ? "Anyone who has its address can read the consolidated calendar, so share it like a password."
              : "A web app holding it can read every event (GET /api/events) and nothing else."}
          </p>
        </ConfirmPage>,
      );
    });

    app.post(`/ui/${segment}/new`, async (c) => {
      const name = nameOf(c, c.get("form").get("name"));
      if (typeof name !== "string") return name;
      const { token } = await issueCredential(ctx, kind, name);
      const feedUrl = `${publicOrigin(c, ctx.trustProxy)}/feeds/${token}.ics`;
      c.header("Cache-Control", "no-store");
      return c.html(
        <IssuedPage
          csrf={c.get("session").csrf}
          title={kind === "feed" ? `Feed “${name}” created` : `Read token “${name}” created`}
          secret={kind === "feed" ? feedUrl : token}
        >
          {kind === "feed"
            ? <p>Subscribe to this address in any calendar app that reads ICS feeds.</p>
            : (
              <p>
                Give it to the web app as{" "}
                <code>new CalendarClient(url, {"{ token }"})</code>; see the README, "CalendarClient
                for web apps".
              </p>
            )}
        </IssuedPage>,
        201,
      );
    });

    app.get(`/ui/${segment}/:id/revoke`, async (c) => {
      const id = c.req.param("id");
      const record = (await ctx.store.listCredentials(kind, ctx.now().toISOString()))
        .find((r) => r.credential_id === id);
      if (!record) return notFound(c, `No ${noun} “${id}”; it may have been revoked already.`);
      return c.html(
        <ConfirmPage
          csrf={c.get("session").csrf}
          title={`Revoke the ${noun} “${record.name}”?`}
          action={`/ui/${segment}/${encodeURIComponent(id)}/revoke`}
          button={`Revoke ${noun}`}
          danger
        >
          <p>
            {kind === "feed"
              ? "Its address stops working at once; calendar apps subscribed to it stop updating."
              : "Web apps using it get 401 answers from now on."}
          </p>
        </ConfirmPage>,
      );
    });

    app.post(`/ui/${segment}/:id/revoke`, async (c) => {
      const id = c.req.param("id");
      const record = (await ctx.store.listCredentials(kind, ctx.now().toISOString()))
        .find((r) => r.credential_id === id);
      if (!record || !(await revokeCredential(ctx, kind, id))) {
        return notFound(c, `No ${noun} “${id}”; it may have been revoked already.`);
      }
      return done(c, "revoked", `${noun} ${record.name}`);
    });
  }

  return app;
}
