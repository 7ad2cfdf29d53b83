import { randomUUID } from "node:crypto";
import { runMigrations } from "graphile-worker";
import { Kysely, PostgresDialect, sql } from "kysely";
import { type Migration, Migrator } from "kysely/migration";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { contentHash, defineStagedAsset, Staging } from "../../connectors/staging/index.ts";
import { migrations } from "../../db/migrations/index.ts";
import { defineAsset } from "../../engine/asset.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { defineResource } from "../../engine/resource.ts";
import { prepareDatabase, workerLogger } from "../../engine/worker.ts";
import { createPool, type pg } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { materialize } from "../support.ts";

/**
 * A database migrated by an earlier release is upgraded by today's code to exactly the schema a
 * fresh database gets (every `ingest.*` function with the signature the code calls, every table,
 * column, constraint and index), and keeps its runs, staged records and cursors. The releases are
 * the migration sets that landed: stop 7 (0001; staging tables without versions), stop 8 and 9
 * (0001, 0003, 0004; staging with versions, load cursors and, from 9, held-back records).
 */
const id = randomUUID().slice(0, 8);
const databases: string[] = [];
const pools: pg.Pool[] = [];

const urlOf = (name: string) => {
  const url = new URL(settings().databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

async function scratch(name: string): Promise<pg.Pool> {
  const database = `mig_${name}_${id}`;
  const admin = createPool(settings().databaseUrl, 1);
  try {
    await admin.query(`create database ${database}`);
  } finally {
    await admin.end();
  }
  databases.push(database);
  const pool = createPool(urlOf(database));
  pools.push(pool);
  return pool;
}

afterAll(async () => {
  for (const pool of pools) await pool.end().catch(() => {});
  const admin = createPool(settings().databaseUrl, 1);
  for (const database of databases) await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
});

/** Migrates `pool` as a release did: graphile-worker's schema, then only the metadata migrations it had. */
async function migrateAsReleased(pool: pg.Pool, names: string[]): Promise<void> {
  await runMigrations({ pgPool: pool, logger: workerLogger });
  const released: Record<string, Migration> = Object.fromEntries(names.map((n) => [n, migrations[n]!]));
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => released },
    migrationTableSchema: "ingest",
    allowUnorderedMigrations: true,
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

/** The shape of the `ingest` and `staging` schemas: functions with their bodies, columns, constraints, indexes. */
async function catalog(pool: pg.Pool) {
  const query = async (text: string) => (await pool.query(text)).rows.map((r) => JSON.stringify(r)).sort();
  return {
    functions: await query(`select p.proname, pg_get_function_identity_arguments(p.oid) as args, p.prosrc
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'ingest'`),
    columns: await query(`select table_schema, table_name, column_name, data_type, is_nullable, column_default
      from information_schema.columns where table_schema in ('ingest', 'staging')`),
    constraints: await query(
      `select n.nspname, c.conrelid::regclass::text as rel, c.conname, pg_get_constraintdef(c.oid) as def
      from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname in ('ingest', 'staging')`,
    ),
    indexes: await query(
      "select schemaname, tablename, indexname, indexdef from pg_indexes where schemaname in ('ingest', 'staging')",
    ),
  };
}

/** Runs, steps, materialisations with lineage and checks, and dead letters, as the code of stop 7 wrote them. */
async function recordHistory(pool: pg.Pool): Promise<void> {
  await pool.query(`insert into ingest.runs (id, selection, status, tags, open_steps, started_at, finished_at)
    values ('r1', 'old/items+', 'succeeded', '{"kind":"test"}', 0, now(), now()), ('r2', 'old/items', 'failed', '{}', 0, now(), now())`);
  await pool.query(`insert into ingest.run_steps (run_id, step_key, asset_key, upstream, remaining, status, attempts)
    values ('r1', 'old/items', 'old/items', '{}', 0, 'succeeded', 1), ('r1', 'old/count', 'old/count', '{old/items}', 0, 'succeeded', 1),
           ('r2', 'old/items', 'old/items', '{}', 0, 'failed', 3)`);
  await pool.query(
    `insert into ingest.materializations (id, run_id, asset_key, status, code_version, data_version, dependencies,
      counts, attempt, started_at, finished_at, duration_ms)
    values (1, 'r1', 'old/items', 'succeeded', '1', 'gen:41', '{}', '{"written":2}', 1, now(), now(), 5),
           (2, 'r1', 'old/count', 'succeeded', '1', 'abc', '{old/items}', '{}', 1, now(), now(), 1)`,
  );
  await pool.query(`insert into ingest.lineage_edges values (2, 'old/items', '', 1, 'gen:41')`);
  await pool.query(
    `insert into ingest.asset_checks (materialization_id, asset_key, partition_key, check_name, passed, severity)
     values (2, 'old/count', '', 'positive', true, 'warn')`,
  );
  await pool.query(`insert into ingest.dead_letters (run_id, asset_key, source, source_key, reason, issues, payload)
    values ('r2', 'old/items', 'test.items', 'x9', 'invalid', '[{"path":"name","message":"Required"}]', '{"id":"x9"}')`);
}

const oldItems = [{ id: "a1", name: "first" }, { id: "a2", name: "second" }];

async function kept(pool: pg.Pool) {
  const count = async (table: string) => Number((await pool.query(`select count(*) from ${table}`)).rows[0].count);
  return {
    runs: await count("ingest.runs"),
    steps: await count("ingest.run_steps"),
    materializations: await count("ingest.materializations"),
    lineage: await count("ingest.lineage_edges"),
    checks: await count("ingest.asset_checks"),
    deadLetters: await count("ingest.dead_letters"),
  };
}

/** Today's code on an upgraded database: a run of a plain asset, and the staged asset re-reading its source. */
async function runToday(pool: pg.Pool) {
  const items = defineStagedAsset<{ id: string; name: string }>({
    key: "old/items",
    codeVersion: "1",
    table: "old_items",
    source: "test.items",
    model: z.object({ id: z.string(), name: z.string() }),
    sourceKey: (r) => r.id,
    rawKey: (r) => r.id,
    extract: async () => oldItems,
  });
  const count = defineAsset({
    key: "old/count",
    deps: [items.key],
    codeVersion: "1",
    materialize: async () => ({ counts: { items: oldItems.length } }),
  });
  const graph = buildAssetGraph({
    assets: [items, count],
    resources: { staging: defineResource({ setup: () => new Staging(pool) }) },
  });
  const { run } = await materialize(pool, graph);
  expect(run.status, run.error ?? "").toBe("succeeded");
  const { rows } = await pool.query(
    "select asset_key, counts from ingest.materializations where run_id = $1 order by asset_key",
    [run.id],
  );
  return Object.fromEntries(rows.map((r) => [r.asset_key, r.counts]));
}

const fresh = async () => {
  const pool = await scratch(`fresh${databases.length}`);
  await prepareDatabase(pool);
  await new Staging(pool).ensureTable("old_items");
  return catalog(pool);
};

describe("upgrading a database migrated by an earlier release", () => {
  it("from stop 7 (0001; staging tables without versions) gives today's schema and keeps what it holds", async () => {
    const pool = await scratch("stop7");
    await migrateAsReleased(pool, ["0001_runs_and_materializations"]);
    await recordHistory(pool);
    // staging as stop 7's code made it: one table per staged asset, no versions, tombstones or cursors
    await pool.query("create schema staging");
    await pool.query(`create table staging.old_items (source_key text primary key, content_hash text not null,
      record jsonb not null, run_id text not null, staged_at timestamptz not null default now())`);
    for (const item of oldItems) {
      await pool.query(
        "insert into staging.old_items (source_key, content_hash, record, run_id) values ($1, $2, $3, 'r1')",
        [
          item.id,
          contentHash(item),
          JSON.stringify(item),
        ],
      );
    }
    const before = await kept(pool);

    await prepareDatabase(pool);
    const staging = new Staging(pool);
    await staging.ensureTable("old_items");
    expect(await catalog(pool)).toEqual(await fresh());
    expect(await kept(pool)).toEqual(before);
    expect((await staging.read("old_items")).map((r) => [r.sourceKey, r.record])).toEqual(
      oldItems.map((i) => [i.id, i]),
    );
    // the records staged by stop 7 are the same records today: nothing rewritten
    const counts = await runToday(pool);
    expect(counts["old/items"]).toMatchObject({ extracted: 2, written: 0, unchanged: 2, removed: 0 });
  });

  it("from stop 8 and 9 (0001, 0003, 0004; cursors and held-back records), also after claim_steps had 5 arguments", async () => {
    const pool = await scratch("stop9");
    await migrateAsReleased(pool, ["0001_runs_and_materializations", "0003_run_queue", "0004_automation"]);
    await recordHistory(pool);
    // staging as stop 9's code made it, with a consumer's cursor and a record it held back
    await pool.query("create schema staging");
    await pool.query("create sequence staging.record_version");
    await pool.query(`create table staging.tables (name text primary key, generation uuid not null,
      version bigint not null default 0, updated_at timestamptz not null default now())`);
    await pool.query(`create table staging.load_cursors (consumer text primary key, table_name text not null,
      generation uuid not null, code_version text not null, position bigint not null, refresh_runs text[],
      updated_at timestamptz not null default now())`);
    await pool.query(
      `create table staging.pending (consumer text not null, source_key text not null, reason text not null,
      since timestamptz not null default now(), primary key (consumer, source_key))`,
    );
    await pool.query(`create table staging.old_items (source_key text primary key, content_hash text not null,
      record jsonb not null, run_id text not null, version bigint not null default nextval('staging.record_version'),
      removed boolean not null default false, staged_at timestamptz not null default now())`);
    await pool.query("create index old_items_version on staging.old_items (version)");
    const generation = randomUUID();
    await pool.query("insert into staging.tables (name, generation, version) values ('old_items', $1, 2)", [
      generation,
    ]);
    for (const item of oldItems) {
      await pool.query(
        "insert into staging.old_items (source_key, content_hash, record, run_id) values ($1, $2, $3, 'r1')",
        [
          item.id,
          contentHash(item),
          JSON.stringify(item),
        ],
      );
    }
    await pool.query(
      `insert into staging.load_cursors (consumer, table_name, generation, code_version, position)
      values ('old/Item', 'old_items', $1, '1', 2)`,
      [generation],
    );
    await pool.query("insert into staging.pending (consumer, source_key, reason) values ('old/HAS', 'a2', 'no node')");
    // a database migrated between two commits of 0003, when claim_steps had five arguments
    await sql`drop function ingest.claim_steps(text, text, text[], text, int, int)`.execute(
      new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }),
    );
    await pool.query(`create function ingest.claim_steps(p_job_id text, p_step_key text, p_read_assets text[],
      p_group text default null, p_group_limit int default null) returns jsonb language sql as $$ select '{}'::jsonb $$`);
    const before = await kept(pool);

    await prepareDatabase(pool);
    await new Staging(pool).ensureTable("old_items");
    expect(await catalog(pool)).toEqual(await fresh());
    expect(await kept(pool)).toEqual(before);
    expect((await pool.query("select consumer, position, refresh_runs from staging.load_cursors")).rows).toEqual([
      { consumer: "old/Item", position: 2, refresh_runs: null },
    ]);
    expect((await pool.query("select consumer, source_key, reason, detached from staging.pending")).rows).toEqual([
      { consumer: "old/HAS", source_key: "a2", reason: "no node", detached: false },
    ]);
    const counts = await runToday(pool);
    expect(counts["old/items"]).toMatchObject({ extracted: 2, written: 0, unchanged: 2 });
  });
});
