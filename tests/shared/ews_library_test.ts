/**
 * The request XML that `shared/ews/library.ts` makes `ews-javascript-api` write: every
 * value escaped exactly once, the zone names of the library's own table included.
 */
import assert from "node:assert/strict";
import { ews } from "../../shared/ews/library.ts";
import { writeAppointment } from "../../shared/ews/appointment.ts";
import { Occurrence } from "../../shared/model.ts";

/** The body of the CreateItem request the library writes for `appointment`. */
async function createItemXml(build: (service: ews.ExchangeService) => ews.Appointment) {
  const service = new ews.ExchangeService(ews.ExchangeVersion.Exchange2016, ews.TimeZoneInfo.Utc);
  service.Url = new ews.Uri("http://127.0.0.1:9/EWS/Exchange.asmx");
  service.Credentials = new ews.WebCredentials("u", "p");
  let body = "";
  service.XHRApi = {
    apiName: "capture",
    xhr: (options: ews.IXHROptions) => {
      body = String(options.data);
      return Promise.reject(new Error("captured"));
    },
    xhrStream: () => Promise.reject(new Error("unused")),
    disconnect: () => {},
  } as unknown as ews.IXHRApi;
  await service.CreateItems(
    [build(service)],
    new ews.FolderId(ews.WellKnownFolderName.Calendar),
    null as unknown as ews.MessageDisposition,
    ews.SendInvitationsMode.SendToNone,
  ).catch(() => {});
  return body;
}

Deno.test("EWS requests: zone names from the library's table and titles are escaped once", async () => {
  const xml = await createItemXml((service) => {
    const appointment = new ews.Appointment(service);
    writeAppointment(
      appointment,
      Occurrence.parse({
        uid: "r&d@corp.example",
        start: "2026-03-10T14:00:00Z",
        end: "2026-03-10T15:00:00Z",
        timezone: "America/New_York",
        title: 'R&D <review> "Q1"',
      }),
      { key: "k", hash: "h" },
      { clearEmpty: false, allDayZone: "UTC" },
    );
    return appointment;
  });
  assert.match(xml, /Name="\(UTC-05:00\) Eastern Time \(US &amp; Canada\)"/);
  assert.doesNotMatch(xml, /&amp;amp;/);
  assert.match(xml, /<t:Subject>R&amp;D &lt;review&gt; &quot;Q1&quot;<\/t:Subject>/);
  assert.match(xml, /<t:ReminderIsSet>false<\/t:ReminderIsSet>/);
});
