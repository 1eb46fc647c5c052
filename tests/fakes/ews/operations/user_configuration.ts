/**
 * `GetUserConfiguration`
 * (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/getuserconfiguration-operation)
 * of the one configuration object this server keeps: `OWA.UserOptions` in a mailbox's
 * root folder, whose dictionary holds the user's OWA time zone under the String key
 * `timezone`. A name or folder that holds no such object, or a mailbox whose user never
 * opened OWA, is `ErrorItemNotFound`. The answer follows the schema's order
 * (`UserConfigurationName`, `ItemId`, `Dictionary`, `XmlData`, `BinaryData`), with the
 * parts `UserConfigurationProperties` asks for.
 *
 * @module
 */
import { EwsError, NS, SchemaViolation, successMessage } from "../soap.ts";
import type { Mailbox, OwaOptions } from "../store.ts";
import { child, el, text, type XmlElement } from "../xml.ts";
import { eachTarget, type Handler, required, resolveFolder } from "./common.ts";

/** The name OWA gives its options object. */
export const OWA_OPTIONS = "OWA.UserOptions";

const PROPERTIES = ["Id", "Dictionary", "XmlData", "BinaryData", "All"];

/** Reads `UserConfigurationProperties`, a space-separated list of its values. */
function readProperties(element: XmlElement): Set<string> {
  const values = element.text.trim().split(/\s+/).filter(Boolean);
  if (values.length === 0 || values.some((value) => !PROPERTIES.includes(value))) {
    throw new SchemaViolation(
      `The 'UserConfigurationProperties' value '${element.text}' is invalid according to ` +
        `its datatype '${NS.t}:UserConfigurationPropertyType'.`,
    );
  }
  return values.includes("All") ? new Set(PROPERTIES) : new Set(values);
}

/** The folder id of the request, written back as Exchange echoes it. */
function echoFolder(element: XmlElement): string {
  const mailbox = child(element, NS.t, "Mailbox");
  const address = mailbox && child(mailbox, NS.t, "EmailAddress")?.text.trim();
  return el(
    `t:${element.name}`,
    { Id: element.attrs.Id, ChangeKey: element.attrs.ChangeKey },
    address ? el("t:Mailbox", {}, text("t:EmailAddress", address)) : "",
  );
}

function stringEntry(key: string, value: string): string {
  const typed = (name: string, v: string) =>
    el(`t:${name}`, {}, text("t:Type", "String"), text("t:Value", v));
  return el("t:DictionaryEntry", {}, typed("DictionaryKey", key), typed("DictionaryValue", value));
}

function writeConfiguration(
  name: string,
  folder: XmlElement,
  mailbox: Mailbox,
  options: OwaOptions,
  properties: Set<string>,
): string {
  return el(
    "m:UserConfiguration",
    {},
    el("t:UserConfigurationName", { Name: name }, echoFolder(folder)),
    // The object is an associated item of the folder, never changed through EWS here.
    properties.has("Id")
      ? el("t:ItemId", {
        Id: mailbox.idOf({ kind: "item", object: options.object }),
        ChangeKey: mailbox.changeKey("calendarItem", 1),
      })
      : "",
    properties.has("Dictionary")
      ? el("t:Dictionary", {}, stringEntry("timezone", options.timeZone))
      : "",
  );
}

/** `GetUserConfiguration`: one message for the one object named. */
export const getUserConfiguration: Handler = (body, ctx) => {
  const nameElement = required(body, NS.m, "UserConfigurationName");
  const name = nameElement.attrs.Name;
  if (name === undefined) {
    throw new SchemaViolation("The required attribute 'Name' is missing.");
  }
  const folder = nameElement.children[0];
  if (!folder) throw new SchemaViolation("The element 'UserConfigurationName' needs a folder id.");
  const properties = readProperties(required(body, NS.m, "UserConfigurationProperties"));
  ctx.record.itemCount = 1;
  return eachTarget("GetUserConfiguration", [folder], (id) => {
    const { mailbox, folder: stored } = resolveFolder(id, ctx);
    const options = stored.distinguished === "root" && name === OWA_OPTIONS
      ? mailbox.owaOptions
      : null;
    if (!options) {
      throw new EwsError(
        "ErrorItemNotFound",
        "The specified object was not found in the store., The configuration object was " +
          `not found. Name = ${name}.`,
      );
    }
    return successMessage(
      "GetUserConfiguration",
      writeConfiguration(name, id, mailbox, options, properties),
    );
  });
};
