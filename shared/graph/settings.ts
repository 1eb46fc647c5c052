/**
 * The settings of an Entra app registration that reaches Microsoft Graph with application
 * permissions, as the agent's `microsoft365` source and the master's `microsoft365`
 * destination both write them in their config.
 *
 * @module
 */
import { z } from "zod";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A tenant may be named by its id or by one of its domains (contoso.onmicrosoft.com). */
const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i;

const TENANT_HINT = "expected the Directory (tenant) ID from the app registration's Overview " +
  "page in the Microsoft Entra admin center (a GUID), or a domain of the tenant";
const CLIENT_HINT = "expected the Application (client) ID from the app registration's " +
  "Overview page in the Microsoft Entra admin center (a GUID)";

function httpsOrigin(hint: string) {
  return z.string({ error: hint }).refine((value) => {
    try {
      const url = new URL(value);
      return ["https:", "http:"].includes(url.protocol) && url.pathname.replace(/\/$/, "") === "";
    } catch {
      return false;
    }
  }, { error: hint }).transform((value) => value.replace(/\/+$/, ""));
}

/**
 * `tenant_id`, `client_id`, exactly one of `client_secret` and `certificate_file` (a PEM
 * file holding the private key and the certificate uploaded to the app registration),
 * `authority` and `graph_url` (the sign-in and Graph hosts; other values only for a
 * national cloud). Extend it with the keys of a source or destination.
 */
export const GraphAppSettings = z.object({
  tenant_id: z.string({ error: TENANT_HINT }).refine(
    (value) => GUID.test(value) || DOMAIN.test(value),
    { error: TENANT_HINT },
  ),
  client_id: z.string({ error: CLIENT_HINT }).regex(GUID, { error: CLIENT_HINT }),
  client_secret: z.string({
    error: "expected the client secret's Value (not its Secret ID) as a string",
  }).default(""),
  certificate_file: z.string({
    error: "expected the path of a PEM file holding the private key and the certificate",
  }).default(""),
  authority: httpsOrigin(
    "expected the sign-in host such as https://login.microsoftonline.com " +
      "(https://login.microsoftonline.us for US Government, https://login.chinacloudapi.cn " +
      "for China)",
  ).default("https://login.microsoftonline.com"),
  graph_url: httpsOrigin(
    "expected the Microsoft Graph host such as https://graph.microsoft.com " +
      "(https://graph.microsoft.us or https://dod-graph.microsoft.us for US Government, " +
      "https://microsoftgraph.chinacloudapi.cn for China), without /v1.0",
  ).default("https://graph.microsoft.com"),
}).superRefine((s, ctx) => {
  if (s.client_secret === "" && s.certificate_file === "") {
    ctx.addIssue({
      code: "custom",
      path: ["client_secret"],
      message: "set client_secret (a secret's Value from Certificates & secrets of the app " +
        "registration) or certificate_file (a PEM file with the private key and the " +
        "certificate uploaded there)",
    });
  } else if (s.client_secret !== "" && s.certificate_file !== "") {
    ctx.addIssue({
      code: "custom",
      path: ["certificate_file"],
      message: "set either client_secret or certificate_file, not both: remove one of them",
    });
  }
});

/** Validated app settings. */
export type GraphAppSettings = z.output<typeof GraphAppSettings>;
