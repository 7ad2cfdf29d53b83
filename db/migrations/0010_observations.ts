import { type Kysely, sql } from "kysely";

/**
 * Observable sources: the latest cheap version each source asset reported of its source (`max(updated_at)`
 * and a row count, a file's size and time) without extracting it, or the error observing it gave. One row
 * per asset, replaced by each observation: staleness compares it with the version its latest
 * materialisation saw. The UI is told of changes, as of the other tables it shows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table ingest.observations (
    asset_key text primary key,
    version text,
    error text,
    observed_at timestamptz not null default now()
  )`.execute(db);
  await sql`create trigger notify_ui after insert or update or delete on ingest.observations
    for each statement execute function ingest.notify_ui()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists ingest.observations`.execute(db);
}
