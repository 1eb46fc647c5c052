/**
 * Calendar folders of a mailbox: find one by display name (directly under a folder, or
 * anywhere below it), list what exists for messages, and create one.
 *
 * @module
 */
import { ews } from "./library.ts";
import type { EwsConnection } from "./connect.ts";

/** A calendar folder: its id and the name Outlook shows. */
export interface CalendarFolder {
  id: string;
  name: string;
}

/** Folders per FindFolder page; Exchange's default limit of a response is 1000. */
const PAGE_SIZE = 500;

/** Outlook's folder class of calendars; subclasses (`IPF.Appointment.Birthday`) count. */
function isCalendar(folder: ews.Folder): boolean {
  return (folder.FolderClass ?? "").startsWith("IPF.Appointment");
}

/**
 * Every calendar folder below `parent`: its children (`deep` false) or its whole
 * subtree (`deep` true), paged.
 */
export async function listCalendars(
  connection: EwsConnection,
  parent: ews.FolderId,
  deep: boolean,
): Promise<CalendarFolder[]> {
  const found: CalendarFolder[] = [];
  for (let offset = 0;;) {
    const page = await connection.run("list the calendar folders", (service) => {
      const view = new ews.FolderView(PAGE_SIZE, offset);
      view.Traversal = deep ? ews.FolderTraversal.Deep : ews.FolderTraversal.Shallow;
      view.PropertySet = new ews.PropertySet(ews.BasePropertySet.IdOnly, [
        ews.FolderSchema.DisplayName,
        ews.FolderSchema.FolderClass,
      ]);
      return service.FindFolders(parent, view);
    });
    for (const folder of page.Folders) {
      if (isCalendar(folder)) found.push({ id: folder.Id.UniqueId, name: folder.DisplayName });
    }
    if (!page.MoreAvailable || page.Folders.length === 0) return found;
    offset = page.NextPageOffset ?? offset + page.Folders.length;
  }
}

/**
 * The calendar named `name` among `calendars`: the exact name first, else the only one
 * whose name differs in letter case alone. Null when there is none (or several).
 */
export function pickCalendar(calendars: CalendarFolder[], name: string): CalendarFolder | null {
  const exact = calendars.filter((c) => c.name === name);
  if (exact.length > 0) return exact[0];
  const folded = calendars.filter((c) => c.name.toLowerCase() === name.toLowerCase());
  return folded.length === 1 ? folded[0] : null;
}

/** Creates a calendar folder named `name` under `parent` and returns it. */
export function createCalendar(
  connection: EwsConnection,
  parent: ews.FolderId,
  name: string,
): Promise<CalendarFolder> {
  return connection.run(`create the calendar "${name}"`, async (service) => {
    const folder = new ews.CalendarFolder(service);
    folder.DisplayName = name;
    await folder.Save(parent);
    return { id: folder.Id.UniqueId, name };
  });
}

/** The id and name of a well-known folder (the default calendar). */
export function bindFolder(
  connection: EwsConnection,
  id: ews.FolderId,
): Promise<CalendarFolder> {
  return connection.run("open the calendar", async (service) => {
    const folder = await ews.Folder.Bind(
      service,
      id,
      new ews.PropertySet(ews.BasePropertySet.IdOnly, [ews.FolderSchema.DisplayName]),
    );
    return { id: folder.Id.UniqueId, name: folder.DisplayName };
  });
}
