import { type Kysely, sql } from "kysely";

/**
 * What staged assets remember of their sources. Incremental extraction: where each staged asset's last read of its source got to (the greatest cursor
 * of what it staged: an `updated_at`, an id), when it last read the source whole, and the code version
 * that read it (a new one reads everything again: its model may accept what the last one refused). One row per
 * staging table, written in the transaction that merges the read, so it moves only when staging commits.
 * Schema drift: the top-level fields each source has come with, and the kinds of value of each, which
 * every read is compared with.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table if not exists staging.extract_cursors (
    table_name text primary key,
    cursor jsonb,
    full_read_at timestamptz,
    code_version text not null,
    updated_at timestamptz not null default now()
  )`.execute(db);
  await sql`create table if not exists staging.source_fields (
    table_name text primary key,
    fields jsonb not null,
    code_version text not null,
    updated_at timestamptz not null default now()
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists staging.extract_cursors, staging.source_fields`.execute(db);
}
