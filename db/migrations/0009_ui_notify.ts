import { type Kysely, sql } from "kysely";

/** The tables whose changes `ingest ui` shows as they happen. */
const watched = ["runs", "run_steps", "materializations", "dead_letters", "ticks", "incidents", "workers"] as const;

/**
 * `ingest ui` pushes changes to the browser as they happen: each statement that changes a run, a step,
 * a materialisation, a dead letter, a tick, an incident or a worker notifies the channel `ingest_ui`
 * with the table's name. Statement-level, with the same payload for every row: Postgres folds
 * identical notifications of one transaction into one, so a run that changes a thousand rows sends one
 * per table, and a database with no listener pays only the trigger call. The function is small and
 * frozen here, not in db/functions/: no later migration changes it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create function ingest.notify_ui() returns trigger language plpgsql as $$
    begin
      perform pg_notify('ingest_ui', tg_table_name);
      return null;
    end $$`.execute(db);
  for (const table of watched) {
    await sql`create trigger notify_ui after insert or update or delete on ${sql.table(`ingest.${table}`)}
      for each statement execute function ingest.notify_ui()`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of watched) {
    await sql`drop trigger if exists notify_ui on ${sql.table(`ingest.${table}`)}`.execute(db);
  }
  await sql`drop function if exists ingest.notify_ui()`.execute(db);
}
