import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { connectNeo4j, defineNodeAsset, runInBatches } from "../../connectors/neo4j/index.ts";
import { observeTable, readTable } from "../../connectors/postgres/index.ts";
import { defineStagedAsset, Staging } from "../../connectors/staging/index.ts";
import type { SchemaContract } from "../../connectors/staging/schema-drift.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { observeSources } from "../../engine/observations.ts";
import { defineResource, ResourcePool } from "../../engine/resource.ts";
import { assetStatuses } from "../../engine/status.ts";
import { createPool, type pg } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { connect, materialize } from "../support.ts";

/**
 * Sources that change: an observable source is stale as soon as its table changes, without being
 * extracted; an incremental source reads only what changed, and after every kind of change (insert,
 * update, a late commit inside the lag, one beyond it, a delete, a table that went back in time) the
 * staging table and the graph equal those of a fresh whole load once the changes can be seen (a whole
 * read finds deletes). Each test has tables, a schema and a label of its own.
 */
const Item = z.object({
  itemId: z.string(),
  name: z.string().min(1),
  updatedAt: z.coerce.date().transform((d) => d.toISOString()),
});
type Item = z.infer<typeof Item>;

let env: Awaited<ReturnType<typeof connect>>;
const cleanUps: (() => Promise<void>)[] = [];

beforeAll(async () => {
  env = await connect();
});
afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0)) await cleanUp();
});
afterAll(async () => {
  await env?.close();
});

/** A source table `items` in a schema of its own in the shop database, which the test changes with SQL. */
async function sourceTable() {
  const schema = `src_${randomUUID().slice(0, 8)}`;
  await env.shop.query(`create schema ${schema}`);
  await env.shop.query(
    `create table ${schema}.items (item_id text primary key, name text, updated_at timestamptz not null default now())`,
  );
  cleanUps.push(async () => void (await env.shop.query(`drop schema ${schema} cascade`)));
  const sql = (text: string, params: unknown[] = []) =>
    env.shop.query(text.replaceAll("items", `${schema}.items`), params);
  return { schema, table: `${schema}.items`, sql };
}

/**
 * A project reading `table`: a staged asset (incremental or not, observable) and `(:Label)` nodes from
 * it. `whole` gives a second, non-incremental project over the same table: the reference.
 */
function project(
  table: string,
  options: {
    incremental?: boolean;
    count?: boolean;
    identity?: boolean;
    failObserve?: () => boolean;
    schema?: SchemaContract;
    allColumns?: boolean;
  } = {},
) {
  // The model's names; `allColumns` reads the others too, in their source names (for schema drift).
  const columns = `${options.allColumns ? "*, " : ""}item_id as "itemId", name, updated_at as "updatedAt"`;
  const id = randomUUID().slice(0, 8);
  const key = (name: string) => `chg_${id}/${name}`;
  const label = `ChgItem_${id}`;
  const stagingTable = `chg_${id}_items`;
  const staged = defineStagedAsset<Item, { shop: pg.Pool }>({
    key: key("items"),
    codeVersion: "1",
    table: stagingTable,
    source: table,
    model: Item,
    sourceKey: (i) => i.itemId,
    rawKey: (row) => row.itemId,
    resources: ["shop"],
    retry: { maxAttempts: 1 },
    schema: options.schema,
    incremental: options.incremental
      ? {
        cursor: (i) => new Date(i.updatedAt),
        lag: 60_000,
        latest: async ({ resources: { shop } }) =>
          (await shop.query(`select max(updated_at) as latest from ${table}`)).rows[0].latest,
        count: options.count
          ? async ({ resources: { shop } }) => Number((await shop.query(`select count(*) from ${table}`)).rows[0].count)
          : undefined,
        identity: options.identity
          ? async ({ resources: { shop } }) => (await observeTable(shop, table, { identity: true })).identity!
          : undefined,
      }
      : undefined,
    extract: ({ resources: { shop }, since }) =>
      since === undefined
        ? readTable(shop, `select ${columns} from ${table} order by item_id`)
        : readTable(shop, `select ${columns} from ${table} where updated_at >= $1 order by item_id`, [since]),
    observe: async ({ resources: { shop } }) => {
      if (options.failObserve?.()) throw new Error("the source is unreachable");
      return observeTable(shop, table, { updatedAt: "updated_at" });
    },
  });
  const nodes = defineNodeAsset<Item>({
    key: key("Item"),
    codeVersion: "1",
    label,
    keyProperty: "itemId",
    from: staged,
    properties: (i) => ({ itemId: i.itemId, name: i.name, updatedAt: i.updatedAt }),
  });
  const graph = buildAssetGraph({
    assets: [staged, nodes],
    resources: {
      shop: defineResource({ setup: () => createPool(settings().shopDatabaseUrl), teardown: (p) => p.end() }),
      staging: defineResource({
        setup: () => new Staging(createPool(settings().databaseUrl)),
        teardown: (s) => s.close(),
      }),
      neo4j: defineResource({ setup: () => connectNeo4j(), teardown: (d) => d.close() }),
    },
  });
  cleanUps.push(async () => {
    await runInBatches(env.neo4j, `MATCH (n:${label}) DETACH DELETE n`);
    await env.pool.query(`drop table if exists staging.${stagingTable}`);
    await env.pool.query("delete from staging.extract_cursors where table_name = $1", [stagingTable]);
    await env.pool.query("delete from staging.load_cursors where consumer like $1", [`chg_${id}/%`]);
    await env.pool.query("delete from ingest.observations where asset_key like $1", [`chg_${id}/%`]);
  });

  const run = async (request: Parameters<typeof materialize>[3] = {}) => {
    const { run, steps } = await materialize(env.pool, graph, graph.order, request);
    const { rows } = await env.pool.query(
      "select asset_key, counts, metadata from ingest.materializations where run_id = $1 and status = 'succeeded'",
      [run.id],
    );
    const of = (name: string) => rows.find((r) => r.asset_key === key(name));
    return { run, steps, staged: of("items"), nodes: of("Item") };
  };
  /** What staging and the graph hold: the reference a fresh whole load is compared with. */
  const holds = async () => {
    const { rows } = await env.pool.query(
      `select source_key, content_hash from staging.${stagingTable} where not removed order by source_key`,
    );
    const graphNodes = await runInBatches(
      env.neo4j,
      `MATCH (n:${label}) RETURN n.itemId AS id, n.name AS name, n.updatedAt AS updatedAt ORDER BY id`,
    );
    return {
      staged: rows.map((r) => [r.source_key, r.content_hash]),
      nodes: graphNodes.map((r) => [r.get("id"), r.get("name"), r.get("updatedAt")]),
    };
  };
  const status = async (observe = true) => {
    if (observe) {
      await using resources = new ResourcePool(graph.definitions.resources);
      await observeSources(env.db, graph, resources, graph.order);
    }
    return (await assetStatuses(env.db, graph, graph.order)).find((s) => s.assetKey === key("items"))!;
  };
  const staged_ = async () =>
    (await env.pool.query(`select record from staging.${stagingTable} where not removed order by source_key`)).rows
      .map((r) => r.record);
  const deadLetters = async () =>
    (await env.pool.query(
      "select reason, source_key, issues from ingest.dead_letters where asset_key = $1 and status = 'open' order by id",
      [key("items")],
    )).rows;
  return { key, graph, run, holds, status, staged: staged_, deadLetters };
}

/** A fresh whole load of the same table by a project of its own: what an incremental project must equal. */
async function wholeLoad(table: string) {
  const reference = project(table);
  const { run } = await reference.run();
  expect(run.status).toBe("succeeded");
  return reference.holds();
}

describe("observable sources", () => {
  it("are stale as soon as their table changes, and materialize --stale picks them up", async () => {
    const source = await sourceTable();
    await source.sql("insert into items (item_id, name) select 'i' || g, 'item ' || g from generate_series(1, 50) g");
    const p = project(source.table);
    expect((await p.run()).run.status).toBe("succeeded");
    expect(await p.status()).toMatchObject({ state: "fresh", causes: [] });

    // Nothing changed: a stale-only run plans nothing.
    expect((await p.run({ staleOnly: true })).steps).toHaveLength(0);

    await source.sql("update items set name = 'renamed', updated_at = now() where item_id = 'i7'");
    const stale = await p.status();
    expect(stale.state).toBe("stale");
    expect(stale.causes.map((c) => c.kind)).toEqual(["source-changed"]);
    expect(stale.reasons[0]).toMatch(/^source changed \(.*"rows":50.* → .*"rows":50.*\)$/);

    const { steps, staged, nodes } = await p.run({ staleOnly: true });
    expect(steps.map((s) => [s.assetKey, s.status])).toEqual([[p.key("items"), "succeeded"], [
      p.key("Item"),
      "succeeded",
    ]]);
    expect(staged.counts).toMatchObject({ extracted: 50, written: 1, unchanged: 49 });
    expect(nodes.counts).toMatchObject({ written: 1 });
    expect(await p.status()).toMatchObject({ state: "fresh" });

    // A delete changes the row count.
    await source.sql("delete from items where item_id = 'i8'");
    expect((await p.status()).causes.map((c) => c.kind)).toEqual(["source-changed"]);
  });

  it("say why observing failed, and a failed observation changes nothing", async () => {
    const source = await sourceTable();
    await source.sql("insert into items (item_id, name) values ('a', 'one')");
    let failing = false;
    const p = project(source.table, { failObserve: () => failing });
    expect((await p.run()).run.status).toBe("succeeded");
    failing = true;
    const status = await p.status();
    expect(status).toMatchObject({
      state: "fresh",
      observation: { version: null, error: "the source is unreachable" },
    });
    expect((await p.run({ staleOnly: true })).steps).toHaveLength(0);
  });
});

describe("incremental sources", () => {
  it("read only what changed and, after every kind of change, equal a fresh whole load", async () => {
    const source = await sourceTable();
    const base = "2026-01-01T00:00:00Z";
    await source.sql(
      `insert into items (item_id, name, updated_at)
       select 'i' || lpad(g::text, 4, '0'), 'item ' || g, $1::timestamptz + g * interval '1 hour' from generate_series(1, 200) g`,
      [base],
    );
    const p = project(source.table, { incremental: true });
    const first = await p.run();
    expect(first.staged.metadata).toMatchObject({ read: "whole source", why: "first read" });
    expect(first.staged.counts).toMatchObject({ extracted: 200, written: 200 });
    expect(await p.holds()).toEqual(await wholeLoad(source.table));

    // Inserts and updates: read from the last cursor less the lag (a minute), so the newest one (i0200) again.
    await source.sql(
      "insert into items (item_id, name, updated_at) values ('i9001', 'new', $1::timestamptz + interval '300 hours')",
      [
        base,
      ],
    );
    await source.sql(
      "update items set name = 'changed', updated_at = $1::timestamptz + interval '301 hours' where item_id = 'i0003'",
      [
        base,
      ],
    );
    const second = await p.run();
    expect(second.staged.metadata).toMatchObject({ read: "incremental", since: "2026-01-09T07:59:00.000Z" });
    expect(second.staged.counts).toMatchObject({ extracted: 3, written: 2, unchanged: 1 });
    const third = await p.run();
    // The lag reads the latest again; its content hash finds it unchanged.
    expect(third.staged.metadata).toMatchObject({ read: "incremental", since: "2026-01-13T12:59:00.000Z" });
    expect(third.staged.counts).toMatchObject({ extracted: 1, written: 0, unchanged: 1 });
    expect(await p.holds()).toEqual(await wholeLoad(source.table));

    // A late commit: a change whose cursor is before the last one staged, but within the lag.
    await source.sql(
      "update items set name = 'late', updated_at = $1::timestamptz + interval '300 hours 59 minutes 30 seconds' where item_id = 'i0004'",
      [
        base,
      ],
    );
    expect((await p.run()).staged.counts).toMatchObject({ written: 1 });
    expect(await p.holds()).toEqual(await wholeLoad(source.table));

    // A change committed later than the lag allows, and a delete: an incremental read cannot see them …
    await source.sql("update items set name = 'too late' , updated_at = $1::timestamptz where item_id = 'i0005'", [
      base,
    ]);
    await source.sql("delete from items where item_id = 'i0006'");
    expect((await p.run()).staged.counts).toMatchObject({ written: 0, removed: 0 });
    // … a whole read (--full-refresh here; fullReadEveryMs on a schedule) finds both.
    const whole = await p.run({ fullRefresh: true });
    expect(whole.staged.metadata).toMatchObject({ read: "whole source", why: "full refresh" });
    expect(whole.staged.counts).toMatchObject({ written: 1, removed: 1 });
    expect(await p.holds()).toEqual(await wholeLoad(source.table));

    // With a row count to compare, a delete is seen at once: fewer records than staged means a whole read.
    const counted = project(source.table, { incremental: true, count: true });
    await counted.run();
    await source.sql("delete from items where item_id = 'i0007'");
    const afterDelete = await counted.run();
    expect(afterDelete.staged.metadata).toMatchObject({
      read: "whole source",
      why: "the source has fewer records than staged (199 < 200): some were deleted",
    });
    expect(afterDelete.staged.counts).toMatchObject({ removed: 1 });
    expect((await counted.run()).staged.metadata).toMatchObject({ read: "incremental" });
    expect(await counted.holds()).toEqual(await wholeLoad(source.table));
  });

  it("reads the whole source, with a warning, when its cursor went back (a table restored or truncated)", async () => {
    const source = await sourceTable();
    await source.sql(
      "insert into items (item_id, name, updated_at) select 'i' || g, 'item ' || g, now() from generate_series(1, 20) g",
    );
    const p = project(source.table, { incremental: true });
    await p.run();
    // Restored from an older backup: fewer rows, all older than the cursor staged.
    await source.sql("truncate items");
    await source.sql(
      "insert into items (item_id, name, updated_at) select 'i' || g, 'old ' || g, now() - interval '1 day' from generate_series(1, 5) g",
    );
    const restored = await p.run();
    expect(restored.staged.metadata).toMatchObject({ read: "whole source" });
    expect(String(restored.staged.metadata.why)).toMatch(
      /^cursor moved backwards: its latest cursor .* is before the last one staged/,
    );
    expect(restored.staged.counts).toMatchObject({ extracted: 5, written: 5, removed: 15 });
    expect(await p.holds()).toEqual(await wholeLoad(source.table));

    // Emptied: not a silent 0-record success, but a whole read that removes everything.
    await source.sql("truncate items");
    const emptied = await p.run();
    expect(emptied.staged.metadata).toMatchObject({
      read: "whole source",
      why: "cursor moved backwards: the source holds nothing now",
    });
    expect(emptied.staged.counts).toMatchObject({ extracted: 0, removed: 5 });
    expect(await p.holds()).toEqual({ staged: [], nodes: [] });
  });

  it("reads the whole source when the table was made again, though its latest cursor and count do not show it", async () => {
    const source = await sourceTable();
    const fill = (names: string, rows: number) =>
      source.sql(
        `insert into items (item_id, name, updated_at)
         select 'i' || g, '${names} ' || g, timestamptz '2026-01-01' + g * interval '1 minute' from generate_series(1, ${rows}) g`,
      );
    await fill("first", 20);
    const p = project(source.table, { incremental: true, count: true, identity: true });
    await p.run();
    // Dropped and created again from other data (a regenerated sample, a table swapped in by a rename):
    // the same latest updated_at, more rows, other contents in rows older than the lag.
    await source.sql("drop table items");
    await source.sql("create table items (item_id text primary key, name text, updated_at timestamptz not null)");
    await fill("second", 25);
    const replaced = await p.run();
    expect(replaced.staged.metadata).toMatchObject({ read: "whole source" });
    expect(String(replaced.staged.metadata.why)).toMatch(/^the source was replaced \(oid \d+ → oid \d+\)$/);
    expect(replaced.staged.counts).toMatchObject({ extracted: 25, written: 25 });
    expect(await p.holds()).toEqual(await wholeLoad(source.table));

    // Without `identity`, the cursor and count see nothing wrong: the lag's few rows are all it reads.
    const blind = project(source.table, { incremental: true, count: true });
    await blind.run();
    await source.sql("drop table items");
    await source.sql("create table items (item_id text primary key, name text, updated_at timestamptz not null)");
    await fill("third", 30);
    const missed = await blind.run();
    expect(missed.staged.metadata).toMatchObject({ read: "incremental" });
    expect(missed.staged.counts.extracted).toBeLessThan(30);
  });
});

describe("schema drift", () => {
  /** A table of three items, read with every column. */
  async function threeItems() {
    const source = await sourceTable();
    await source.sql("insert into items (item_id, name) values ('i1', 'one'), ('i2', 'two'), ('i3', 'three')");
    return source;
  }

  it("is reported per run (fields added, gone, a new kind of value) and by status; discard stages what the model keeps", async () => {
    const source = await threeItems();
    const p = project(source.table, { allColumns: true });
    expect((await p.run()).staged.metadata).toEqual({}); // the first read only learns the fields

    await source.sql("alter table items add column colour text");
    await source.sql("update items set colour = 'red' where item_id = 'i2'");
    const added = await p.run();
    expect(added.staged.metadata.schemaDrift).toEqual({
      added: [{ field: "colour", records: 3, types: ["string"], example: "i1" }],
      gone: [],
      typeChanged: [],
    });
    expect((await p.status(false)).lastMaterialization?.schemaDrift?.added[0]?.field).toBe("colour");
    expect((await p.staged())[1]).not.toHaveProperty("colour");
    // Reported once: the next read knows the field.
    expect((await p.run()).staged.metadata).toEqual({});

    await source.sql("alter table items drop column colour");
    await source.sql("alter table items add column stock integer default 4");
    await source.sql("alter table items alter column item_id type text");
    const changed = await p.run();
    expect(changed.staged.metadata.schemaDrift).toEqual({
      added: [{ field: "stock", records: 3, types: ["number"], example: "i1" }],
      gone: ["colour"],
      typeChanged: [],
    });
    await source.sql("alter table items alter column stock type text");
    expect((await p.run()).staged.metadata.schemaDrift).toEqual({
      added: [],
      gone: [],
      typeChanged: [{ field: "stock", was: ["number"], now: "string", records: 3, example: "i1" }],
    });
  });

  it("evolve keeps a new field on the staged records; freeze dead-letters the records that have one", async () => {
    const source = await threeItems();
    const evolving = project(source.table, { allColumns: true, schema: "evolve" });
    const frozen = project(source.table, { allColumns: true, schema: "freeze" });
    await evolving.run();
    await frozen.run();
    await source.sql("alter table items add column colour text");
    await source.sql("update items set colour = 'red' where item_id = 'i2'");

    expect((await evolving.run()).staged.counts).toMatchObject({ extracted: 3, written: 3 });
    expect((await evolving.staged()).map((r) => r.colour)).toEqual([null, "red", null]);
    // Still kept on later reads, not only the one that found it.
    await source.sql("update items set colour = 'blue', updated_at = now() where item_id = 'i3'");
    await evolving.run();
    expect((await evolving.staged()).map((r) => r.colour)).toEqual([null, "red", "blue"]);

    const frozenRun = await frozen.run();
    expect(frozenRun.staged.counts).toMatchObject({ extracted: 3, loaded: 0, deadLettered: 3, written: 0 });
    const letters = await frozen.deadLetters();
    expect(letters.map((l) => [l.reason, l.source_key])).toEqual([["schema", "i1"], ["schema", "i2"], [
      "schema",
      "i3",
    ]]);
    expect(letters[0].issues).toEqual([
      { path: "colour", message: "a field the source did not have before (the asset's schema is frozen)" },
    ]);
    // A whole read whose records were all dead-lettered leaves nothing staged (as for records the model
    // refuses): what was built from them goes, and the dead letters hold every one, for a replay.
    expect(await frozen.staged()).toEqual([]);
  });
});
