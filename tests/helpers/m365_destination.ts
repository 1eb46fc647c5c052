/**
 * A `microsoft365` destination on the Graph stand-in, for the destination's tests and its
 * benchmark: the app, the mailbox and the shared Graph client set up as the master does.
 *
 * @module
 */
import { createGraphClient, type GraphClient } from "../../shared/graph/client.ts";
import {
  createMicrosoft365Destination,
  type Microsoft365DestinationOptions,
} from "../../master/destinations/microsoft365.ts";
import type { Destination } from "../../master/destinations/types.ts";
import type { FakeApp, FakeGraph } from "../fakes/graph/mod.ts";

/** How messages name the settings of the test destination. */
export const SETTING_PREFIX = "DESTINATIONS_FILE /etc/calsync/destinations.json: [0].";

/** A client for `app` on `graph`, as `master/destinations/mod.ts` makes it. */
export function graphClientFor(
  graph: FakeGraph,
  app: FakeApp,
  secret: string = app.secret,
): GraphClient {
  return createGraphClient({
    tenantId: graph.tenantId,
    clientId: app.clientId,
    clientSecret: secret,
    authority: graph.origin,
    graphUrl: graph.origin,
    credentialsSetting: `${SETTING_PREFIX}client_secret`,
    mailboxSetting: `${SETTING_PREFIX}mailbox`,
    permission: "Calendars.ReadWrite",
    // Throttling tests inject waits; nothing here waits for real.
    sleep: () => Promise.resolve(),
  });
}

/** The destination writing into `mailbox` through `app`. */
export function openM365Destination(
  graph: FakeGraph,
  app: FakeApp,
  mailbox: string,
  extra: Partial<Microsoft365DestinationOptions> = {},
): Promise<Destination> {
  return createMicrosoft365Destination({
    id: "m365",
    client: graphClientFor(graph, app),
    mailbox,
    graphUrl: graph.origin,
    settingNames: {
      mailbox: `${SETTING_PREFIX}mailbox`,
      calendarName: `${SETTING_PREFIX}calendar_name`,
    },
    ...extra,
  });
}

/** HTTP requests to Graph since the last reset (a `$batch` counts once), tokens left out. */
export function httpRequests(graph: FakeGraph) {
  return graph.requests.filter((r) => r.batch === null && r.kind !== "token");
}

/** Write requests inside `$batch`es or alone since the last reset. */
export function writeRequests(graph: FakeGraph) {
  return graph.requests.filter((r) =>
    ["createEvent", "updateEvent", "deleteEvent"].includes(r.kind)
  );
}
