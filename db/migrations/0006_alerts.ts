import type { Kysely } from "kysely";
import { sql } from "kysely";

/**
 * What the daemon's alerts keep: incidents (one open per kind and subject, so a condition that holds
 * for an hour is one incident, not 240), each opening and resolution's delivery to each channel with
 * its attempts (claimed with a lease, so two daemons never send one twice and a restarted daemon
 * carries on), and the failed runs already alerted on. The ticks of the daemon's alert evaluations
 * that fail are recorded as `alerts` ticks.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const ingest = db.withSchema("ingest").schema;

  await ingest
    .createTable("incidents")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn(
      "kind",
      "text",
      (c) => c.notNull().check(sql`kind in ('run-failed','dead-letters','freshness','worker-dead')`),
    )
    .addColumn("subject", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('open','resolved')`))
    .addColumn("summary", "text", (c) => c.notNull())
    .addColumn("details", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn("occurrences", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("daemon", "text", (c) => c.notNull())
    .addColumn("opened_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("resolved_at", "timestamptz")
    .addColumn("resolution", "text")
    .execute();
  // The deduplication: a second daemon opening the same incident inserts nothing.
  await ingest.createIndex("incidents_open").on("incidents").columns(["kind", "subject"]).unique()
    .where(sql.ref("status"), "=", "open").execute();
  await ingest.createIndex("incidents_by_subject").on("incidents").columns(["kind", "subject", "opened_at"]).execute();

  await ingest
    .createTable("alert_deliveries")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("incident_id", "bigint", (c) => c.notNull().references("ingest.incidents.id").onDelete("cascade"))
    .addColumn("event", "text", (c) => c.notNull().check(sql`event in ('opened','resolved')`))
    .addColumn("channel", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status in ('pending','delivered','failed')`))
    .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("next_attempt_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("claimed_by", "text")
    .addColumn("claimed_until", "timestamptz")
    .addColumn("last_attempt_at", "timestamptz")
    .addColumn("last_status", "integer")
    .addColumn("last_error", "text")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("delivered_at", "timestamptz")
    .addUniqueConstraint("alert_deliveries_once", ["incident_id", "event", "channel"])
    .execute();
  await ingest.createIndex("alert_deliveries_due").on("alert_deliveries").column("next_attempt_at")
    .where(sql.ref("status"), "=", "pending").execute();

  await ingest
    .createTable("alerted_runs")
    .addColumn("run_id", "text", (c) => c.primaryKey())
    .addColumn("alerted_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await ingest.createIndex("runs_failed").on("runs").column("finished_at").where(sql.ref("status"), "=", "failed")
    .execute();

  await sql`alter table ingest.ticks drop constraint ticks_kind_check,
    add constraint ticks_kind_check check (kind in ('schedule','file-sensor','asset-sensor','alerts'))`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const ingest = db.withSchema("ingest").schema;
  await sql`delete from ingest.ticks where kind = 'alerts'`.execute(db);
  await sql`alter table ingest.ticks drop constraint ticks_kind_check,
    add constraint ticks_kind_check check (kind in ('schedule','file-sensor','asset-sensor'))`.execute(db);
  await ingest.dropIndex("runs_failed").ifExists().execute();
  for (const table of ["alerted_runs", "alert_deliveries", "incidents"]) {
    await ingest.dropTable(table).ifExists().execute();
  }
}
