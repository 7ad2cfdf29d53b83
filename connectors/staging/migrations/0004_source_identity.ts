import { type Kysely, sql } from "kysely";

/**
 * Incremental extraction: what the source was when it was last read (a table's OID, say), so a source
 * replaced since — a table dropped and created again — is read whole even when its latest cursor and row
 * count give no sign of it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table staging.extract_cursors add column if not exists source_identity text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table staging.extract_cursors drop column if exists source_identity`.execute(db);
}
