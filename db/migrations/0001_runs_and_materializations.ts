import { type Kysely, sql } from "kysely";

/**
 * The metadata store: runs, the steps each run plans (one per asset or asset partition) and the
 * materialisations they record. Lives in its own schema beside graphile-worker's.
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
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("started_at", "timestamptz")
    .addColumn("finished_at", "timestamptz")
    .execute();

  await ingest
    .createTable("run_steps")
    .addColumn("run_id", "text", (c) => c.notNull().references("ingest.runs.id").onDelete("cascade"))
    .addColumn("asset_key", "text", (c) => c.notNull())
    .addColumn("partition_key", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("upstream", sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn("status", "text", (c) =>
      c.notNull().check(sql`status in ('planned','queued','running','succeeded','failed','skipped','canceled')`),
    )
    .addColumn("error", "text")
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("started_at", "timestamptz")
    .addColumn("finished_at", "timestamptz")
    .addPrimaryKeyConstraint("run_steps_pkey", ["run_id", "asset_key", "partition_key"])
    .execute();

  await ingest
    .createTable("materializations")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("run_id", "text", (c) => c.notNull().references("ingest.runs.id").onDelete("cascade"))
    .addColumn("asset_key", "text", (c) => c.notNull())
    .addColumn("partition_key", "text", (c) => c.notNull().defaultTo(""))
    .addColumn("code_version", "text", (c) => c.notNull())
    .addColumn("data_version", "text", (c) => c.notNull())
    .addColumn("upstream_versions", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("counts", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("metadata", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn("started_at", "timestamptz", (c) => c.notNull())
    .addColumn("finished_at", "timestamptz", (c) => c.notNull())
    .addColumn("duration_ms", "integer", (c) => c.notNull())
    .execute();
  await ingest
    .createIndex("materializations_latest")
    .on("materializations")
    .columns(["asset_key", "partition_key", "id desc"])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropSchema("ingest").ifExists().cascade().execute();
}
