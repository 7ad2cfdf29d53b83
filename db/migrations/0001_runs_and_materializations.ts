import type { Kysely } from "kysely";
import { sql } from "kysely";
import { stepFunctions } from "./step-functions.ts";

/**
 * The metadata store, in its own schema beside graphile-worker's: runs, the steps each run plans
 * (one per asset or asset partition), the materialisations steps record, asset check results and
 * lineage edges between materialisations.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createSchema("ingest").ifNotExists().execute();
  const ingest = db.withSchema("ingest").schema;

  await ingest
    .createTable("runs")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("selection", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('queued','running','succeeded','failed','canceled')`))
    .addColumn("traceparent", "text")
    .addColumn("error", "text")
    .addColumn("tags", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("open_steps", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("started_at", "timestamptz")
    .addColumn("finished_at", "timestamptz")
    .execute();
  await ingest.createIndex("runs_active").on("runs").column("status").where(sql.ref("status"), "in", ["queued", "running"]).execute();

  await ingest
    .createTable("materializations")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("run_id", "text", (c) => c.notNull().references("ingest.runs.id").onDelete("cascade"))
    .addColumn("asset_key", "text", (c) => c.notNull())
    .addColumn("partition_key", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('succeeded','failed')`))
    .addColumn("code_version", "text", (c) => c.notNull())
    .addColumn("data_version", "text")
    .addColumn("dependencies", sql`text[]`, (c) => c.notNull())
    .addColumn("upstream_versions", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("counts", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("metadata", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("error", "text")
    .addColumn("attempt", "integer", (c) => c.notNull())
    .addColumn("trace_id", "text")
    .addColumn("started_at", "timestamptz", (c) => c.notNull())
    .addColumn("finished_at", "timestamptz", (c) => c.notNull())
    .addColumn("duration_ms", "integer", (c) => c.notNull())
    .execute();
  await ingest
    .createIndex("materializations_latest")
    .on("materializations")
    .columns(["asset_key", "partition_key", "id desc"])
    .where(sql.ref("status"), "=", "succeeded")
    .execute();
  await ingest.createIndex("materializations_run").on("materializations").column("run_id").execute();

  await ingest
    .createTable("run_steps")
    .addColumn("run_id", "text", (c) => c.notNull().references("ingest.runs.id").onDelete("cascade"))
    .addColumn("step_key", "text", (c) => c.notNull())
    .addColumn("asset_key", "text", (c) => c.notNull())
    .addColumn("partition_key", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("upstream", sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn("remaining", "integer", (c) => c.notNull())
    .addColumn("only_if_stale", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("max_attempts", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("status", "text", (c) =>
      c.notNull().check(sql`status in ('planned','queued','running','succeeded','fresh','failed','skipped','canceled')`),
    )
    .addColumn("job_id", "text")
    .addColumn("materialization_id", "bigint", (c) => c.references("ingest.materializations.id").onDelete("set null"))
    .addColumn("error", "text")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("started_at", "timestamptz")
    .addColumn("finished_at", "timestamptz")
    .addPrimaryKeyConstraint("run_steps_pkey", ["run_id", "step_key"])
    .execute();
  await ingest.createIndex("run_steps_by_status").on("run_steps").columns(["run_id", "status"]).execute();
  await ingest.createIndex("run_steps_waiting").on("run_steps").columns(["step_key", "status"]).execute();
  await ingest.createIndex("run_steps_upstream").on("run_steps").using("gin").column("upstream").execute();

  await ingest
    .createTable("asset_checks")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("materialization_id", "bigint", (c) => c.notNull().references("ingest.materializations.id").onDelete("cascade"))
    .addColumn("asset_key", "text", (c) => c.notNull())
    .addColumn("partition_key", "text", (c) => c.notNull())
    .addColumn("check_name", "text", (c) => c.notNull())
    .addColumn("passed", "boolean", (c) => c.notNull())
    .addColumn("severity", "text", (c) => c.notNull().check(sql`severity in ('warn','error')`))
    .addColumn("description", "text")
    .addColumn("metadata", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await ingest
    .createTable("lineage_edges")
    .addColumn("materialization_id", "bigint", (c) => c.notNull().references("ingest.materializations.id").onDelete("cascade"))
    .addColumn("upstream_asset", "text", (c) => c.notNull())
    .addColumn("upstream_partition", "text", (c) => c.notNull())
    .addColumn("upstream_materialization_id", "bigint", (c) => c.references("ingest.materializations.id").onDelete("set null"))
    .addColumn("upstream_data_version", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("lineage_edges_pkey", ["materialization_id", "upstream_asset", "upstream_partition"])
    .execute();

  await ingest
    .createTable("dead_letters")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("run_id", "text", (c) => c.notNull())
    .addColumn("asset_key", "text", (c) => c.notNull())
    .addColumn("partition_key", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("source", "text", (c) => c.notNull())
    .addColumn("source_key", "text")
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("issues", "jsonb", (c) => c.notNull())
    .addColumn("payload", "jsonb", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().defaultTo("open").check(sql`status in ('open','replayed','superseded')`))
    .addColumn("replayed_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await ingest.createIndex("dead_letters_by_asset").on("dead_letters").columns(["asset_key", "status", "id"]).execute();
  await ingest.createIndex("dead_letters_by_run").on("dead_letters").column("run_id").execute();

  await sql.raw(stepFunctions).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropSchema("ingest").ifExists().cascade().execute();
}
