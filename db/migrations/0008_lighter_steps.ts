import { type Kysely, sql } from "kysely";
import { formerSignatures, functionBodies } from "../functions/index.ts";

/**
 * Each step costs fewer statements and less index upkeep: `finish_steps` moves a run's open-step
 * count and closes it in one statement, `record_materialization` writes a materialisation with its
 * lineage edges and checks in one; the GIN index on `run_steps.upstream` goes (every lookup of it
 * also names the run, which the primary key and `run_steps_by_status` find, while each status change
 * had to update it); and `run_steps` pages keep room for updates in place (fillfactor 70), so moving
 * a step's `remaining` touches no index. Re-creates every function from `db/functions/`: this is
 * the newest migration that reads it (0005 runs its frozen copy).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const signature of formerSignatures) await sql.raw(`drop function if exists ${signature}`).execute(db);
  for (const body of functionBodies) await sql.raw(body).execute(db);
  await sql`drop index if exists ingest.run_steps_upstream`.execute(db);
  await sql`alter table ingest.run_steps set (fillfactor = 70)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table ingest.run_steps reset (fillfactor)`.execute(db);
  await sql`create index if not exists run_steps_upstream on ingest.run_steps using gin (upstream)`.execute(db);
}
