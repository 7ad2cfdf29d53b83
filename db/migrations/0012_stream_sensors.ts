import { type Kysely, sql } from "kysely";

/** Stream sensors record ticks of their own kind. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table ingest.ticks drop constraint ticks_kind_check,
    add constraint ticks_kind_check check (kind in ('schedule','file-sensor','asset-sensor','stream-sensor','alerts'))`
    .execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from ingest.ticks where kind = 'stream-sensor'`.execute(db);
  await sql`alter table ingest.ticks drop constraint ticks_kind_check,
    add constraint ticks_kind_check check (kind in ('schedule','file-sensor','asset-sensor','alerts'))`.execute(db);
}
