/**
 * The destination contract against Debian's Xandikos, a CalDAV server with RFC 6578
 * sync-collection and its own way of storing text: a second real server beside
 * Radicale and SOGo.
 */
import { createCalDavDestination } from "../../master/destinations/caldav.ts";
import { deleteResource, makeCalendar, putResource } from "../helpers/radicale.ts";
import { startXandikos } from "../helpers/xandikos.ts";
import { runDestinationContract } from "./destination_contract.ts";

Deno.test("caldav destination against Xandikos", async (t) => {
  await using xandikos = await startXandikos();
  const { url, username, password } = xandikos;
  let calendars = 0;
  await t.step("the destination contract", async (t) => {
    await runDestinationContract(t, async () => {
      const collection = await makeCalendar(
        `${url}user/calendars/calsync-${++calendars}/`,
        username,
        password,
      );
      let foreign = 0;
      return {
        destination: await createCalDavDestination({
          id: "xandikos",
          url: collection,
          username,
          password,
        }),
        putForeign: (ics) =>
          putResource(`${collection}foreign-${++foreign}.ics`, ics, username, password),
        cleanup: () => deleteResource(collection, username, password),
      };
    });
  });
});
