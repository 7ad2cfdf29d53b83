import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { connectChroma, defineCollectionAsset } from "../../connectors/chroma/index.ts";
import { connectNeo4j, defineNodeAsset, defineRelationshipAsset, runInBatches } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset, Staging } from "../../connectors/staging/index.ts";
import { defineResource } from "../../engine/resource.ts";
import { loadEmbedder } from "../../resources/embedder.ts";
import { createPool } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { connect, materialize } from "../support.ts";

/**
 * Node, relationship and collection assets load only what changed since their last materialisation,
 * delete what was removed, go on after a crash from the last page that committed, and reload
 * everything when their code version changes.
 */
const id = randomUUID().slice(0, 8);
const Item = z.object({ itemId: z.string(), name: z.string(), shelf: z.string(), count: z.number().int() });
type Item = z.infer<typeof Item>;
const label = `IncItem_${id}`;
const shelfLabel = `IncShelf_${id}`;
const type = `ON_SHELF_${id}`.toUpperCase();
const collectionName = `inc_items_${id}`;

let source: Item[] = [];
const defaultShelves = ["s0", "s1", "s2", "s9"];
let shelfIds = defaultShelves;
let failAt: string | undefined;
let env: Awaited<ReturnType<typeof connect>>;

const item = (i: number, shelf = `s${i % 3}`): Item => ({
  itemId: `i${String(i).padStart(6, "0")}`,
  name: `item number ${i}`,
  shelf,
  count: i,
});

function definitionsAt(codeVersion: string) {
  const items = defineStagedAsset<Item>({
    key: `inc_${id}/items`,
    codeVersion: "1",
    table: `inc_${id}_items`,
    source: "test.items",
    model: Item,
    sourceKey: (r) => r.itemId,
    rawKey: (r) => r.itemId,
    extract: async () => source.map((r) => ({ ...r })),
  });
  const shelves = defineStagedAsset<{ shelfId: string }>({
    key: `inc_${id}/shelves`,
    codeVersion: "1",
    table: `inc_${id}_shelves`,
    source: "test.shelves",
    model: z.object({ shelfId: z.string() }),
    sourceKey: (r) => r.shelfId,
    rawKey: (r) => r.shelfId,
    extract: async () => shelfIds.map((shelfId) => ({ shelfId })),
  });
  const shelfNodes = defineNodeAsset({
    key: `inc_${id}/Shelf`,
    codeVersion: "1",
    label: shelfLabel,
    keyProperty: "shelfId",
    from: shelves,
    properties: (s) => s,
  });
  const itemNodes = defineNodeAsset<Item>({
    key: `inc_${id}/Item`,
    codeVersion,
    label,
    keyProperty: "itemId",
    integers: ["count"],
    retry: { maxAttempts: 1 },
    from: items,
    properties: (r) => {
      if (r.itemId === failAt) throw new Error(`failing at ${r.itemId}`);
      return { ...r, codeVersion };
    },
  });
  const onShelf = defineRelationshipAsset<Item>({
    key: `inc_${id}/ON_SHELF`,
    codeVersion: "1",
    type,
    from: items,
    start: { node: itemNodes, value: (r) => r.itemId },
    end: { node: shelfNodes, value: (r) => r.shelf },
  });
  const collection = defineCollectionAsset<Item>({
    key: `inc_${id}/collection`,
    codeVersion: "1",
    collection: collectionName,
    from: items,
    document: (r) => r.name,
    metadata: (r) => ({ shelf: r.shelf }),
  });
  return buildAssetGraph({
    assets: [items, shelves, shelfNodes, itemNodes, onShelf, collection],
    resources: {
      staging: defineResource({
        setup: () => new Staging(createPool(settings().databaseUrl)),
        teardown: (s) => s.close(),
      }),
      neo4j: defineResource({ setup: () => connectNeo4j(), teardown: (d) => d.close() }),
      chroma: defineResource({ setup: () => connectChroma() }),
      embedder: defineResource({ setup: () => loadEmbedder(), teardown: (e) => e.close() }),
    },
  });
}

async function run(graph = definitionsAt("1"), selection?: string[]) {
  const { run, steps } = await materialize(env.pool, graph, selection ?? graph.order);
  const counts = Object.fromEntries(
    (await env.pool.query("select asset_key, counts from ingest.materializations where run_id = $1", [run.id])).rows
      .map((r) => [r.asset_key.split("/")[1], r.counts]),
  );
  return { run, steps, counts };
}

async function graphState() {
  const nodes = await runInBatches(
    env.neo4j,
    `MATCH (n:${label}) OPTIONAL MATCH (n)-[:${type}]->(s) RETURN n.itemId AS id, n.name AS name, n.count AS count, s.shelfId AS shelf ORDER BY id`,
    {},
  );
  return nodes.map((r) => ({ id: r.get("id"), name: r.get("name"), count: r.get("count"), shelf: r.get("shelf") }));
}

beforeAll(async () => {
  env = await connect();
});
afterAll(async () => {
  await runInBatches(
    env.neo4j,
    `MATCH (n) WHERE n:${label} OR n:${shelfLabel} CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS`,
  );
  await env.chroma.drop(collectionName);
  await env.pool.query(`drop table if exists staging.inc_${id}_items, staging.inc_${id}_shelves`);
  for (const table of ["staging.pending", "staging.load_cursors"]) {
    await env.pool.query(`delete from ${table} where consumer like $1`, [`inc_${id}/%`]);
  }
  await env.close();
});

describe("incremental loading", () => {
  it("writes and embeds only what changed, deletes what was removed, and leaves the rest alone", async () => {
    source = Array.from({ length: 30 }, (_, i) => item(i));
    const first = await run();
    expect(first.run.status, first.run.error ?? "").toBe("succeeded");
    expect(first.counts.Item).toMatchObject({ written: 30, removed: 0, fullRefresh: 1 });
    expect(first.counts.collection).toMatchObject({ embedded: 30 });

    const again = await run();
    expect(again.counts.Item).toMatchObject({ written: 0, removed: 0, fullRefresh: 0 });
    expect(again.counts.ON_SHELF).toMatchObject({ written: 0, removed: 0 });
    expect(again.counts.collection).toMatchObject({ embedded: 0 });

    // item 1 renamed, item 2 moved to another shelf, item 3 gone, item 30 new
    source = source.filter((r) => r.itemId !== item(3).itemId).map((
      r,
    ) => (r.itemId === item(1).itemId
      ? { ...r, name: "renamed" }
      : r.itemId === item(2).itemId
      ? { ...r, shelf: "s9" }
      : r)
    );
    source.push(item(30));
    const changed = await run();
    expect(changed.counts.items).toMatchObject({ written: 3, unchanged: 27, removed: 1 });
    expect(changed.counts.Item).toMatchObject({ written: 3, removed: 1, fullRefresh: 0 });
    // the removed item's relationship went with its node (DETACH DELETE), before ON_SHELF ran
    expect(changed.counts.ON_SHELF).toMatchObject({ written: 3 });
    expect(changed.counts.collection).toMatchObject({ embedded: 3, removed: 1 });

    const state = await graphState();
    expect(state.map((n) => n.id)).toEqual(source.map((r) => r.itemId).sort());
    expect(state.find((n) => n.id === item(1).itemId)?.name).toBe("renamed");
    expect(state.filter((n) => n.id === item(2).itemId).map((n) => n.shelf)).toEqual(["s9"]);
    expect(state.every((n) => typeof n.count === "object" && n.count.constructor.name === "Integer")).toBe(true);

    const collection = await env.chroma.collection(collectionName);
    expect(await collection.count()).toBe(30);
    const renamed = await collection.get({ ids: [item(1).itemId], include: ["documents" as never] });
    expect(renamed.documents).toEqual(["renamed"]);
    expect((await collection.get({ ids: [item(3).itemId] })).ids).toEqual([]);
  });

  it("holds back a relationship whose end node is not loaded, and writes it once the node arrives", async () => {
    const before = source;
    const graph = definitionsAt("1");
    const noCollection = graph.order.filter((k) => k !== `inc_${id}/collection`);
    const pendingRows = async () =>
      (await env.pool.query("select source_key, reason from staging.pending where consumer = $1 order by source_key", [
        `inc_${id}/ON_SHELF`,
      ])).rows;

    // shelves s7 and s8 are not in the shelf source (yet)
    source = [...before, item(100, "s7"), item(101, "s8")];
    const first = await run(graph, noCollection);
    expect(first.run.status, first.run.error ?? "").toBe("succeeded");
    expect(first.counts.ON_SHELF).toMatchObject({ written: 0, pending: 2, resolved: 0 });
    expect(await pendingRows()).toEqual([
      { source_key: item(100).itemId, reason: `no (:${shelfLabel} {shelfId: "s7"}) in the graph` },
      { source_key: item(101).itemId, reason: `no (:${shelfLabel} {shelfId: "s8"}) in the graph` },
    ]);

    // nothing changed: tried again, still held back
    const again = await run(graph, noCollection);
    expect(again.counts.ON_SHELF).toMatchObject({ written: 0, pending: 2, resolved: 0 });

    // s7 arrives, item 101 leaves the source: one written, one dropped, nothing left waiting
    shelfIds = [...defaultShelves, "s7"];
    source = [...before, item(100, "s7")];
    const arrived = await run(graph, noCollection);
    expect(arrived.counts.Shelf).toMatchObject({ written: 1 });
    expect(arrived.counts.ON_SHELF).toMatchObject({ written: 1, pending: 0, resolved: 1 });
    expect(await pendingRows()).toEqual([]);
    expect((await graphState()).find((n) => n.id === item(100).itemId)?.shelf).toBe("s7");

    // back to the first test's state for the next one
    shelfIds = defaultShelves;
    source = before;
    const restored = await run(graph, noCollection);
    expect(restored.counts.Item).toMatchObject({ removed: 1 });
    expect((await graphState()).length).toBe(before.length);
  });

  it("goes on after a crash from the last page that committed, and a new code version reloads everything", async () => {
    // three pages of 20,000: the second fails on its first attempt, after the first committed
    source = Array.from({ length: 45_000 }, (_, i) => item(i));
    const itemsOnly = (graph: ReturnType<typeof definitionsAt>) =>
      [`inc_${id}/items`, `inc_${id}/shelves`, `inc_${id}/Shelf`, `inc_${id}/Item`].filter((k) => graph.byKey.has(k));
    const graph = definitionsAt("1");
    // only the records staged now (30 of the first test are unchanged) are new for graph/Item
    failAt = item(35_000).itemId;
    const crashed = await run(graph, itemsOnly(graph));
    expect(crashed.run.status).toBe("failed");
    expect(crashed.steps.find((st) => st.asset_key === `inc_${id}/Item`)?.error).toContain(`failing at ${failAt}`);
    const loadedBeforeCrash = (await runInBatches(env.neo4j, `MATCH (n:${label}) RETURN count(n) AS n`))[0]!.get("n")
      .toNumber();
    expect(loadedBeforeCrash).toBeGreaterThan(30);
    expect(loadedBeforeCrash).toBeLessThan(45_000);

    failAt = undefined;
    const resumed = await run(graph, itemsOnly(graph));
    expect(resumed.run.status, resumed.run.error ?? "").toBe("succeeded");
    // what committed before the crash is not written again
    expect(resumed.counts.Item.written).toBe(45_000 - loadedBeforeCrash);
    expect((await graphState()).length).toBe(45_000);

    // a new code version: everything rewritten, and what an older load left behind is swept
    await runInBatches(
      env.neo4j,
      `CREATE (:${label} {itemId: 'orphan', ingestAsset: $asset, ingestRunId: 'an-old-run'})`,
      { asset: `inc_${id}/Item` },
    );
    const v2 = definitionsAt("2");
    const refreshed = await run(v2, itemsOnly(v2));
    expect(refreshed.counts.Item).toMatchObject({ written: 45_000, removed: 1, fullRefresh: 1 });
    const versions = await runInBatches(env.neo4j, `MATCH (n:${label}) RETURN n.codeVersion AS v, count(*) AS n`);
    expect(versions.map((r) => [r.get("v"), r.get("n").toNumber()])).toEqual([["2", 45_000]]);
  });
});
