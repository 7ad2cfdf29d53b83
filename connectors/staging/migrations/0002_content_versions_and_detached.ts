import { type Kysely, sql } from "kysely";

/**
 * A consumer's data version (a number of `staging.record_version`, taken when a materialisation
 * changed what it holds), and held-back records whose relationship went with a deleted end node
 * (`detached`, until their consumer has counted them removed).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table staging.load_cursors add column if not exists data_version bigint`.execute(db);
  await sql`alter table staging.pending add column if not exists detached boolean not null default false`.execute(db);
}
