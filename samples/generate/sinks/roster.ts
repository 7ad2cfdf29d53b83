import ExcelJS from "exceljs";
import { EPOCH } from "../time.ts";
import { fixZipTimestamps } from "./zip-timestamps.ts";

export interface RosterRow {
  ownerId: string;
  email: string;
  name: string;
  team: string;
  region: string;
  startDate: Date;
}

export const rosterHeader = ["Owner ID", "Email", "Name", "Team", "Region", "Start date"] as const;

/** The HR roster of sales reps: sheet `Reps`, one header row, start dates as Excel dates. Streams rows to disk. */
export async function writeRoster(path: string, rows: Iterable<RosterRow>): Promise<number> {
  // stored, not deflated: deflate output differs between zlib builds (Node's and Deno's), stored bytes do not
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: path,
    useStyles: true,
    useSharedStrings: false,
    zip: { store: true },
  });
  workbook.creator = "ingest generate";
  workbook.lastModifiedBy = "ingest generate";
  workbook.created = new Date(EPOCH);
  workbook.modified = new Date(EPOCH);
  const sheet = workbook.addWorksheet("Reps");
  sheet.columns = [{ width: 12 }, { width: 32 }, { width: 24 }, { width: 14 }, { width: 18 }, { width: 12 }];
  const header = sheet.addRow([...rosterHeader]);
  header.font = { bold: true };
  header.commit();
  let count = 0;
  for (const row of rows) {
    const added = sheet.addRow([row.ownerId, row.email, row.name, row.team, row.region, row.startDate]);
    added.getCell(6).numFmt = "yyyy-mm-dd";
    added.commit();
    count++;
  }
  sheet.commit();
  await workbook.commit();
  await fixZipTimestamps(path);
  return count;
}
