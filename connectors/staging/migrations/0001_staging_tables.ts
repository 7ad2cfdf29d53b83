import { type Kysely, sql } from "kysely";

/**
 * The staging schema's own tables, as `Staging` created them before it had migrations (hence `if
 * not exists`): the staging tables' generations and versions, each consumer's load cursor, and the
 * records consumers hold back. The staging tables themselves are made per staged asset.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create sequence if not exists staging.record_version`.execute(db);
  await sql`create table if not exists staging.tables (
    name text primary key,
    generation uuid not null,
    version bigint not null default 0,
    updated_at timestamptz not null default now())`.execute(db);
  await sql`create table if not exists staging.load_cursors (
    consumer text primary key,
    table_name text not null,
    generation uuid not null,
    code_version text not null,
    position bigint not null,
    refresh_runs text[],
    updated_at timestamptz not null default now())`.execute(db);
  await sql`create table if not exists staging.pending (
    consumer text not null,
    source_key text not null,
    reason text not null,
    since timestamptz not null default now(),
    primary key (consumer, source_key))`.execute(db);
}
