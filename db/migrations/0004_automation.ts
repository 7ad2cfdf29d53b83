import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * What the daemon keeps: every tick of every schedule and sensor, the runs ticks asked for (written
 * before the run exists, so a crashed daemon's successor makes the same run exactly once), each
 * instigator's cursor, and the file sensors' cursor of files by path, size, mtime and content hash.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const ingest = db.withSchema("ingest").schema;

  await ingest
    .createTable("ticks")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("instigator", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull().check(sql`kind in ('schedule','file-sensor','asset-sensor')`))
    .addColumn("tick_key", "text")
    .addColumn("tick_time", "timestamptz", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('evaluated','skipped','requested','failed')`))
    .addColumn("reason", "text")
    .addColumn("run_ids", sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn("cursor", "jsonb")
    .addColumn("evaluations", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("last_tick_time", "timestamptz", (c) => c.notNull())
    .addColumn("daemon", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One row per scheduled instant: a second daemon evaluating the same tick cannot record it again.
  await ingest.createIndex("ticks_once").on("ticks").columns(["instigator", "tick_key"]).unique().where(sql.ref("tick_key"), "is not", null).execute();
  await ingest.createIndex("ticks_recent").on("ticks").columns(["instigator", "id desc"]).execute();

  await ingest
    .createTable("run_requests")
    .addColumn("run_id", "text", (c) => c.primaryKey())
    .addColumn("tick_id", "bigint", (c) => c.notNull().references("ingest.ticks.id").onDelete("cascade"))
    .addColumn("instigator", "text", (c) => c.notNull())
    .addColumn("request", "jsonb", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('pending','requested','failed')`))
    .addColumn("error", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("requested_at", "timestamptz")
    .execute();
  await ingest.createIndex("run_requests_pending").on("run_requests").column("created_at").where(sql.ref("status"), "=", "pending").execute();
  await ingest.createIndex("run_requests_by_tick").on("run_requests").column("tick_id").execute();

  await ingest
    .createTable("instigator_state")
    .addColumn("instigator", "text", (c) => c.primaryKey())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("cursor", "jsonb", (c) => c.notNull())
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await ingest
    .createTable("sensor_files")
    .addColumn("sensor", "text", (c) => c.notNull())
    .addColumn("path", "text", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addColumn("mtime_ms", "double precision", (c) => c.notNull())
    .addColumn("sha256", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('requested','succeeded','failed','moved')`))
    .addColumn("run_id", "text")
    .addColumn("seen_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("processed_at", "timestamptz")
    .addPrimaryKeyConstraint("sensor_files_pkey", ["sensor", "path"])
    .execute();
  await ingest.createIndex("sensor_files_requested").on("sensor_files").column("sensor").where(sql.ref("status"), "=", "requested").execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const ingest = db.withSchema("ingest").schema;
  for (const table of ["sensor_files", "instigator_state", "run_requests", "ticks"]) await ingest.dropTable(table).ifExists().execute();
}
