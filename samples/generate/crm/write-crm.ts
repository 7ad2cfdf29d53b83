import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Pool } from "mysql2/promise";
import { badReasonOf, type Entity, isDuplicated } from "../defects.ts";
import { customerOfContact } from "../links.ts";
import { type OnProgress, progressOf } from "../progress.ts";
import { type EntityReport, Tally } from "../report.ts";
import { csvRecord } from "../sinks/csv.ts";
import { DelayedLines } from "../sinks/delayed.ts";
import { LineFile } from "../sinks/line-file.ts";
import { writeRoster } from "../sinks/roster.ts";
import { DAY } from "../time.ts";
import type { World } from "../world.ts";
import { companyObject } from "./companies.ts";
import { contactObject } from "./contacts.ts";
import { dealObject } from "./deals.ts";
import type { HubSpotObject } from "./hubspot.ts";
import { interactionHeader, interactionRecord } from "./interactions.ts";
import { owner, ownerObject } from "./owners.ts";
import { writeCrmDatabase } from "./write-crm-database.ts";

/** A duplicate follows its original this many records later. */
const DUPLICATE_LAG = 7;

export interface CrmOutput {
  /** Per entity, what the bundled project reads: deals from the CRM's database when it was written, else its API. */
  reports: Partial<Record<Entity, EntityReport>>;
  /** What each table of the CRM's database holds, when it was written. */
  database?: Partial<Record<Entity, EntityReport>>;
  files: Record<string, number>;
  /** Good contacts who are good customers, and good contacts who are not customers. */
  contactsWhoAreCustomers: number;
  contactsWhoAreNotCustomers: number;
}

/**
 * Writes `count` records as lines; where the entity has a duplicate of record `i`, it follows
 * DUPLICATE_LAG records later, as a re-export would put it.
 */
async function writeWithDuplicates(
  file: LineFile,
  entity: Entity,
  path: string,
  count: number,
  lineOf: (index: number) => string,
  duplicateOf: (index: number, line: string) => string,
  onProgress: OnProgress | undefined,
): Promise<EntityReport> {
  const tally = new Tally(entity, path);
  const delayed = new DelayedLines();
  const progress = progressOf(entity, onProgress);
  for (let i = 0; i < count; i++) {
    const line = lineOf(i);
    await file.write(line);
    tally.record(badReasonOf(entity, i));
    if (isDuplicated(entity, i)) delayed.hold(i + DUPLICATE_LAG, duplicateOf(i, line));
    for (const due of delayed.due(i)) {
      await file.write(due);
      tally.duplicate();
    }
    progress.tick(tally.generated);
  }
  for (const rest of delayed.rest()) {
    await file.write(rest);
    tally.duplicate();
  }
  await file.close();
  progress.done(tally.generated);
  return tally.report();
}

async function writeObjects(
  world: World,
  entity: Entity,
  outDir: string,
  path: string,
  count: number,
  objectOf: (world: World, index: number, older?: boolean) => HubSpotObject,
  onProgress: OnProgress | undefined,
): Promise<{ report: EntityReport; lines: number }> {
  const file = new LineFile(join(outDir, path));
  // The duplicate is the older version of the object.
  const report = await writeWithDuplicates(
    file,
    entity,
    path,
    count,
    (i) => JSON.stringify(objectOf(world, i)),
    (i) => JSON.stringify(objectOf(world, i, true)),
    onProgress,
  );
  return { report, lines: file.lines };
}

async function writeInteractions(world: World, outDir: string, path: string, onProgress: OnProgress | undefined) {
  const file = new LineFile(join(outDir, path), "\r\n");
  await file.write(csvRecord(interactionHeader));
  // An interaction has no update time: its duplicate is the same row exported again.
  const report = await writeWithDuplicates(
    file,
    "interactions",
    path,
    world.sizes.interactions,
    (x) => csvRecord(interactionRecord(world, x)),
    (_x, line) => line,
    onProgress,
  );
  return { report, records: file.lines - 1 };
}

function* rosterRows(world: World) {
  for (let o = 0; o < world.sizes.owners; o++) {
    const rep = owner(world, o);
    yield {
      ownerId: rep.id,
      email: rep.email,
      name: `${rep.firstName} ${rep.lastName}`,
      team: rep.team,
      region: rep.region,
      startDate: new Date(Math.floor(rep.startedAt / DAY) * DAY),
    };
  }
}

/**
 * `crm/api/{companies,contacts,owners,deals}.jsonl`, `crm/exports/interactions.csv`, `crm/exports/sales-reps.xlsx`
 * and, given its `database`, the CRM's own tables (written while the files are).
 */
export async function writeCrm(
  world: World,
  outDir: string,
  onProgress?: OnProgress,
  database?: Pool,
): Promise<CrmOutput> {
  const [files, tables] = await Promise.all([
    writeCrmFiles(world, outDir, onProgress),
    database && writeCrmDatabase(world, database),
  ]);
  if (!tables) return files;
  return { ...files, reports: { ...files.reports, deals: tables.reports.deals }, database: tables.reports };
}

async function writeCrmFiles(world: World, outDir: string, onProgress: OnProgress | undefined): Promise<CrmOutput> {
  await mkdir(join(outDir, "crm", "api"), { recursive: true });
  await mkdir(join(outDir, "crm", "exports"), { recursive: true });
  const reports: Partial<Record<Entity, EntityReport>> = {};
  const files: Record<string, number> = {};
  const objects = [
    ["companies", "crm/api/companies.jsonl", world.sizes.companies, companyObject],
    ["contacts", "crm/api/contacts.jsonl", world.sizes.contacts, contactObject],
    ["owners", "crm/api/owners.jsonl", world.sizes.owners, ownerObject],
    ["deals", "crm/api/deals.jsonl", world.sizes.deals, dealObject],
  ] as const;
  for (const [entity, path, count, objectOf] of objects) {
    const { report, lines } = await writeObjects(world, entity, outDir, path, count, objectOf, onProgress);
    reports[entity] = report;
    files[path] = lines;
  }
  const interactions = await writeInteractions(world, outDir, "crm/exports/interactions.csv", onProgress);
  reports.interactions = interactions.report;
  files["crm/exports/interactions.csv"] = interactions.records;
  files["crm/exports/sales-reps.xlsx"] = await writeRoster(
    join(outDir, "crm", "exports", "sales-reps.xlsx"),
    rosterRows(world),
  );

  let contactsWhoAreCustomers = 0;
  let contactsWhoAreNotCustomers = 0;
  for (let j = 0; j < world.sizes.contacts; j++) {
    if (badReasonOf("contacts", j) !== undefined) continue;
    if (customerOfContact(world, j) === undefined) contactsWhoAreNotCustomers++;
    else contactsWhoAreCustomers++;
  }
  return { reports, files, contactsWhoAreCustomers, contactsWhoAreNotCustomers };
}
