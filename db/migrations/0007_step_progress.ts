import { type Kysely, sql } from "kysely";

/**
 * How far each running materialisation has got: records done and, where the asset knows it, how many
 * there are, updated at most once a second by the worker running it, deleted when it ends. What
 * `ingest materialize --wait` shows as progress, from whichever worker runs the step.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table ingest.step_progress (
    asset_key text not null,
    partition_key text not null default '',
    done bigint not null,
    total bigint,
    started_at timestamptz not null,
    updated_at timestamptz not null default now(),
    primary key (asset_key, partition_key)
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists ingest.step_progress`.execute(db);
}
