import type { Kysely } from "kysely";
import { sql } from "kysely";
import { stepFunctions } from "./step-functions.ts";
import { runQueueFunctions } from "./run-queue-functions.ts";

/**
 * The run queue: run priorities, the concurrency group a running step counts against, the
 * `canceling` run state, and the workers' heartbeats, from which jobs held by a dead worker are
 * released; with the step functions that use them (run-queue-functions.ts).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const ingest = db.withSchema("ingest").schema;

  await ingest
    .alterTable("runs")
    .addColumn("priority", "integer", (c) => c.notNull().defaultTo(0).check(sql`priority between -32768 and 32767`))
    .execute();
  await sql`alter table ingest.runs drop constraint runs_status_check,
    add constraint runs_status_check check (status in ('queued','running','canceling','succeeded','failed','canceled'))`.execute(db);

  await ingest.alterTable("run_steps").addColumn("group_name", "text").execute();
  // Running steps: per-group counts at claim time, and the liveness sweep's look for orphans.
  await ingest.createIndex("run_steps_running").on("run_steps").columns(["group_name", "job_id"]).where(sql.ref("status"), "=", "running").execute();

  await ingest
    .createTable("workers")
    // graphile-worker's worker pool id: what its jobs' locked_by holds.
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("host", "text")
    .addColumn("pid", "integer")
    .addColumn("concurrency", "integer")
    .addColumn("heartbeat_ms", "integer", (c) => c.notNull())
    .addColumn("timeout_ms", "integer", (c) => c.notNull())
    .addColumn("started_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("last_seen", "timestamptz")
    .addColumn("stopped_at", "timestamptz")
    .addColumn("released_at", "timestamptz")
    .addColumn("release_reason", "text")
    .addColumn("released_jobs", sql`bigint[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .execute();

  await sql.raw(runQueueFunctions).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const fn of ["release_dead_workers(int)", "release_worker_jobs(text[], text, boolean)", "canceled_jobs(text[])", "cancel_run(text)", "claim_steps(text, text, text[], text, int, int)"]) {
    await sql.raw(`drop function if exists ingest.${fn}`).execute(db);
  }
  // 0001's versions of the step functions it replaced.
  await sql.raw(stepFunctions.replaceAll("create function", "create or replace function")).execute(db);
  await db.withSchema("ingest").schema.dropTable("workers").ifExists().execute();
  await sql`drop index if exists ingest.run_steps_running`.execute(db);
  await sql`alter table ingest.run_steps drop column if exists group_name`.execute(db);
  await sql`update ingest.runs set status = 'canceled' where status = 'canceling'`.execute(db);
  await sql`alter table ingest.runs drop column if exists priority, drop constraint runs_status_check,
    add constraint runs_status_check check (status in ('queued','running','succeeded','failed','canceled'))`.execute(db);
}
