import { type Kysely, sql } from "kysely";

/**
 * Stream sensors record ticks of their own kind, and look up their latest runs several times a second: by
 * the instigator tag, newest first.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists runs_by_instigator on ingest.runs ((tags ->> 'ingest/instigator'), created_at desc)`
    .execute(db);
  await sql`alter table ingest.ticks drop constraint ticks_kind_check,
    add constraint ticks_kind_check check (kind in ('schedule','file-sensor','asset-sensor','stream-sensor','alerts'))`
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists ingest.runs_by_instigator`.execute(db);
  await sql`delete from ingest.ticks where kind = 'stream-sensor'`.execute(db);
  await sql`alter table ingest.ticks drop constraint ticks_kind_check,
    add constraint ticks_kind_check check (kind in ('schedule','file-sensor','asset-sensor','alerts'))`.execute(db);
}
