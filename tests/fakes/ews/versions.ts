/**
 * The Exchange builds the fake can be: what each writes in `ServerVersionInfo` and which
 * `RequestServerVersion` values it accepts. A server refuses a version it does not know
 * (a later one, or one that never existed) with the `ErrorInvalidServerVersion` SOAP fault
 * (HTTP 500), the code the ResponseCode reference
 * (https://learn.microsoft.com/en-us/exchange/client-developer/web-service-reference/responsecode)
 * gives for "an invalid request server version".
 *
 * @module
 */

/** The builds the fake can be. */
export type ServerVersion = "Exchange2016_CU23" | "Exchange2013_SP1";

/** How a build identifies itself and which request versions it serves. */
export interface VersionProfile {
  /** The attributes of `h:ServerVersionInfo`. */
  info: {
    MajorVersion: number;
    MinorVersion: number;
    MajorBuildNumber: number;
    MinorBuildNumber: number;
    Version: string;
  };
  /** The `RequestServerVersion` values it accepts. */
  accepts: ReadonlySet<string>;
}

/** The schema versions of Exchange 2013 SP1, per the RequestServerVersion element page. */
const UP_TO_2013_SP1 = [
  "Exchange2007",
  "Exchange2007_SP1",
  "Exchange2010",
  "Exchange2010_SP1",
  "Exchange2010_SP2",
  "Exchange2013",
  "Exchange2013_SP1",
];

/** The builds by name. */
export const SERVER_VERSIONS: Readonly<Record<ServerVersion, VersionProfile>> = {
  "Exchange2016_CU23": {
    info: {
      MajorVersion: 15,
      MinorVersion: 1,
      MajorBuildNumber: 2507,
      MinorBuildNumber: 6,
      Version: "V2017_07_11",
    },
    accepts: new Set([
      ...UP_TO_2013_SP1,
      "Exchange2015",
      "Exchange2016",
      "V2015_10_05",
      "V2016_01_06",
      "V2016_04_13",
      "V2016_07_13",
      "V2016_10_10",
      "V2017_01_07",
      "V2017_04_14",
      "V2017_07_11",
    ]),
  },
  // Build 15.0.847 writes schema version V2_8 in Microsoft's own examples (How to process
  // calendar items in batches in Exchange); .32 is the SP1 release build.
  "Exchange2013_SP1": {
    info: {
      MajorVersion: 15,
      MinorVersion: 0,
      MajorBuildNumber: 847,
      MinorBuildNumber: 32,
      Version: "V2_8",
    },
    accepts: new Set(UP_TO_2013_SP1),
  },
};
