import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { connectChroma, defineCollectionAsset } from "../../connectors/chroma/index.ts";
import { connectNeo4j, defineNodeAsset, defineRelationshipAsset, runInBatches } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset, Staging } from "../../connectors/staging/index.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { defineResource } from "../../engine/resource.ts";
import { assetStatuses } from "../../engine/status.ts";
import { type Embedder, loadEmbedder } from "../../resources/embedder.ts";
import { createPool } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { connect, materialize } from "../support.ts";

/**
 * Node, relationship and collection assets load only what changed since their last materialisation,
 * delete what was removed, go on after a crash from the last page that committed, and reload
 * everything when their code version changes. Each test has a project (labels, tables, collection)
 * of its own, so they pass in any order.
 */
const Item = z.object({ itemId: z.string(), name: z.string(), shelf: z.string(), count: z.number().int() });
type Item = z.infer<typeof Item>;

const item = (i: number, shelf = `s${i % 3}`): Item => ({
  itemId: `i${String(i).padStart(6, "0")}`,
  name: `item number ${i}`,
  shelf,
  count: i,
});
const items = (n: number) => Array.from({ length: n }, (_, i) => item(i));

let env: Awaited<ReturnType<typeof connect>>;
let embedder: Embedder;
const cleanUps: (() => Promise<void>)[] = [];

/** Items on shelves, as nodes, ON_SHELF relationships and a collection, from sources the test changes. */
function project() {
  const id = randomUUID().slice(0, 8);
  const label = `IncItem_${id}`;
  const shelfLabel = `IncShelf_${id}`;
  const type = `ON_SHELF_${id}`.toUpperCase();
  const collectionName = `inc_items_${id}`;
  const key = (name: string) => `inc_${id}/${name}`;
  const state = {
    items: [] as Item[],
    shelves: ["s0", "s1", "s2", "s9"],
    failAt: undefined as string | undefined,
    relationshipFailAt: undefined as string | undefined,
  };

  const graphAt = (codeVersion: string) => {
    const stagedItems = defineStagedAsset<Item>({
      key: key("items"),
      codeVersion: "1",
      table: `inc_${id}_items`,
      source: "test.items",
      model: Item,
      sourceKey: (r) => r.itemId,
      rawKey: (r) => r.itemId,
      extract: async () => state.items.map((r) => ({ ...r })),
    });
    const stagedShelves = defineStagedAsset<{ shelfId: string }>({
      key: key("shelves"),
      codeVersion: "1",
      table: `inc_${id}_shelves`,
      source: "test.shelves",
      model: z.object({ shelfId: z.string() }),
      sourceKey: (r) => r.shelfId,
      rawKey: (r) => r.shelfId,
      extract: async () => state.shelves.map((shelfId) => ({ shelfId })),
    });
    const shelfNodes = defineNodeAsset({
      key: key("Shelf"),
      codeVersion: "1",
      label: shelfLabel,
      keyProperty: "shelfId",
      from: stagedShelves,
      properties: (s) => s,
    });
    const itemNodes = defineNodeAsset<Item>({
      key: key("Item"),
      codeVersion,
      label,
      keyProperty: "itemId",
      integers: ["count"],
      retry: { maxAttempts: 1 },
      from: stagedItems,
      properties: (r) => {
        if (r.itemId === state.failAt) throw new Error(`failing at ${r.itemId}`);
        return { ...r, codeVersion };
      },
    });
    const onShelf = defineRelationshipAsset<Item>({
      key: key("ON_SHELF"),
      codeVersion,
      type,
      from: stagedItems,
      retry: { maxAttempts: 1 },
      start: { node: itemNodes, value: (r) => r.itemId },
      end: { node: shelfNodes, value: (r) => r.shelf },
      properties: (r) => {
        if (r.itemId === state.relationshipFailAt) throw new Error(`failing at ${r.itemId}`);
        return { codeVersion };
      },
    });
    const collection = defineCollectionAsset<Item>({
      key: key("collection"),
      codeVersion: "1",
      collection: collectionName,
      from: stagedItems,
      document: (r) => r.name,
      metadata: (r) => ({ shelf: r.shelf }),
    });
    return buildAssetGraph({
      assets: [stagedItems, stagedShelves, shelfNodes, itemNodes, onShelf, collection],
      resources: {
        staging: defineResource({
          setup: () => new Staging(createPool(settings().databaseUrl)),
          teardown: (s) => s.close(),
        }),
        neo4j: defineResource({ setup: () => connectNeo4j(), teardown: (d) => d.close() }),
        chroma: defineResource({ setup: () => connectChroma() }),
        embedder: defineResource({ setup: () => embedder }),
      },
    });
  };

  /** Materialises `names` (default all) of the graph; the counts of each asset, by its name. */
  const run = async (graph = graphAt("1"), names?: string[]) => {
    const { run, steps } = await materialize(env.pool, graph, names ? names.map(key) : graph.order);
    const { rows } = await env.pool.query("select asset_key, counts from ingest.materializations where run_id = $1", [
      run.id,
    ]);
    const counts = Object.fromEntries(rows.map((r) => [r.asset_key.split("/")[1], r.counts]));
    return { run, steps, counts };
  };

  const graphState = async () => {
    const nodes = await runInBatches(
      env.neo4j,
      `MATCH (n:${label}) OPTIONAL MATCH (n)-[:${type}]->(s) RETURN n.itemId AS id, n.name AS name, n.count AS count, s.shelfId AS shelf ORDER BY id`,
      {},
    );
    return nodes.map((r) => ({ id: r.get("id"), name: r.get("name"), count: r.get("count"), shelf: r.get("shelf") }));
  };

  cleanUps.push(async () => {
    await runInBatches(
      env.neo4j,
      `MATCH (n) WHERE n:${label} OR n:${shelfLabel} CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS`,
    );
    await env.chroma.drop(collectionName);
    await env.pool.query(`drop table if exists staging.inc_${id}_items, staging.inc_${id}_shelves`);
    for (const table of ["staging.pending", "staging.load_cursors"]) {
      await env.pool.query(`delete from ${table} where consumer like $1`, [`inc_${id}/%`]);
    }
  });
  return { id, key, label, type, collectionName, state, graphAt, run, graphState };
}

beforeAll(async () => {
  [env, embedder] = await Promise.all([connect(), loadEmbedder()]);
});
afterEach(async () => {
  for (const cleanUp of cleanUps.splice(0)) await cleanUp();
});
afterAll(async () => {
  await embedder?.close();
  await env?.close();
});

describe("incremental loading", () => {
  it("writes and embeds only what changed, deletes what was removed, and leaves the rest alone", async () => {
    const p = project();
    p.state.items = items(30);
    const first = await p.run();
    expect(first.run.status, first.run.error ?? "").toBe("succeeded");
    expect(first.counts.Item).toMatchObject({ written: 30, removed: 0, fullRefresh: 1 });
    expect(first.counts.collection).toMatchObject({ embedded: 30 });

    const again = await p.run();
    expect(again.counts.Item).toMatchObject({ written: 0, removed: 0, fullRefresh: 0 });
    expect(again.counts.ON_SHELF).toMatchObject({ written: 0, removed: 0 });
    expect(again.counts.collection).toMatchObject({ embedded: 0 });

    // item 1 renamed, item 2 moved to another shelf, item 3 gone, item 30 new
    p.state.items = p.state.items.filter((r) => r.itemId !== item(3).itemId).map((r) =>
      r.itemId === item(1).itemId ? { ...r, name: "renamed" } : r.itemId === item(2).itemId ? { ...r, shelf: "s9" } : r
    );
    p.state.items.push(item(30));
    const changed = await p.run();
    expect(changed.counts.items).toMatchObject({ written: 3, unchanged: 27, removed: 1 });
    expect(changed.counts.Item).toMatchObject({ written: 3, removed: 1, fullRefresh: 0 });
    // the removed item's relationship went with its node (DETACH DELETE), and ON_SHELF counts it
    expect(changed.counts.ON_SHELF).toMatchObject({ written: 3, moved: 1, removed: 1 });
    expect(changed.counts.collection).toMatchObject({ embedded: 3, removed: 1 });

    const state = await p.graphState();
    expect(state.map((n) => n.id)).toEqual(p.state.items.map((r) => r.itemId).sort());
    expect(state.find((n) => n.id === item(1).itemId)?.name).toBe("renamed");
    expect(state.filter((n) => n.id === item(2).itemId).map((n) => n.shelf)).toEqual(["s9"]);
    expect(state.every((n) => typeof n.count === "object" && n.count.constructor.name === "Integer")).toBe(true);

    const collection = await env.chroma.collection(p.collectionName);
    expect(await collection.count()).toBe(30);
    const renamed = await collection.get({ ids: [item(1).itemId], include: ["documents" as never] });
    expect(renamed.documents).toEqual(["renamed"]);
    expect((await collection.get({ ids: [item(3).itemId] })).ids).toEqual([]);
  });

  it("says what changed upstream, as version numbers and the counts since", async () => {
    const p = project();
    p.state.items = items(10);
    const graph = p.graphAt("1");
    await p.run(graph);
    const versionOf = async (assetKey: string) =>
      (await env.db.selectFrom("ingest.materializations").select("data_version").where("asset_key", "=", assetKey)
        .where("status", "=", "succeeded").orderBy("id", "desc").limit(1).executeTakeFirstOrThrow()).data_version;
    const before = await versionOf(p.key("items"));
    expect(before).toMatch(/^v\d+$/);

    // two changes staged, one record removed, in two materialisations, before graph/Item runs again
    p.state.items = items(10).map((r, i) => (i < 2 ? { ...r, name: `${r.name}!` } : r));
    await p.run(graph, ["items"]);
    p.state.items = p.state.items.slice(0, 9);
    await p.run(graph, ["items"]);
    const after = await versionOf(p.key("items"));
    const [status] = await assetStatuses(env.db, graph, [p.key("Item")]);
    expect(status!.reasons).toEqual([
      `upstream ${p.key("items")} has new data (${before} → ${after}; 2 materialisations since: 2 written, 1 removed)`,
    ]);

    // an upstream materialised again without a change keeps its data version: nothing downstream is stale
    await p.run(graph);
    await p.run(graph, ["items"]);
    expect(await versionOf(p.key("items"))).toBe(after);
    const statuses = await assetStatuses(env.db, graph, graph.order);
    expect(statuses.map((s) => [s.assetKey, s.state])).toEqual(graph.order.map((k) => [k, "fresh"]));
  });

  it("holds back a relationship whose end node is not loaded, and writes it once the node arrives", async () => {
    const p = project();
    const graph = p.graphAt("1");
    const noCollection = ["items", "shelves", "Shelf", "Item", "ON_SHELF"];
    const pendingRows = async () =>
      (await env.pool.query("select source_key, reason from staging.pending where consumer = $1 order by source_key", [
        p.key("ON_SHELF"),
      ])).rows;
    const shelfLabel = `IncShelf_${p.id}`;

    // shelves s7 and s8 are not in the shelf source (yet)
    p.state.items = [...items(30), item(100, "s7"), item(101, "s8")];
    const first = await p.run(graph, noCollection);
    expect(first.run.status, first.run.error ?? "").toBe("succeeded");
    expect(first.counts.ON_SHELF).toMatchObject({ written: 30, pending: 2, resolved: 0 });
    expect(await pendingRows()).toEqual([
      { source_key: item(100).itemId, reason: `no (:${shelfLabel} {shelfId: "s7"}) in the graph` },
      { source_key: item(101).itemId, reason: `no (:${shelfLabel} {shelfId: "s8"}) in the graph` },
    ]);

    // nothing changed: tried again, still held back
    const again = await p.run(graph, noCollection);
    expect(again.counts.ON_SHELF).toMatchObject({ written: 0, pending: 2, resolved: 0 });

    // s7 arrives, item 101 leaves the source: one written, one dropped, nothing left waiting
    p.state.shelves = [...p.state.shelves, "s7"];
    p.state.items = [...items(30), item(100, "s7")];
    const arrived = await p.run(graph, noCollection);
    expect(arrived.counts.Shelf).toMatchObject({ written: 1 });
    expect(arrived.counts.ON_SHELF).toMatchObject({ written: 1, pending: 0, resolved: 1 });
    expect(await pendingRows()).toEqual([]);
    expect((await p.graphState()).find((n) => n.id === item(100).itemId)?.shelf).toBe("s7");
  });

  it("goes on after a crash from the last page that committed, and a new code version reloads everything", async () => {
    const p = project();
    // three pages of 20,000: the second fails on its first attempt, after the first committed
    p.state.items = items(45_000);
    const itemsOnly = ["items", "shelves", "Shelf", "Item"];
    p.state.failAt = item(35_000).itemId;
    const crashed = await p.run(p.graphAt("1"), itemsOnly);
    expect(crashed.run.status).toBe("failed");
    expect(crashed.steps.find((st) => st.assetKey === p.key("Item"))?.error).toContain(`failing at ${p.state.failAt}`);
    const loadedBeforeCrash = (await runInBatches(env.neo4j, `MATCH (n:${p.label}) RETURN count(n) AS n`))[0]!.get("n")
      .toNumber();
    expect(loadedBeforeCrash).toBeGreaterThan(0);
    expect(loadedBeforeCrash).toBeLessThan(45_000);

    p.state.failAt = undefined;
    const resumed = await p.run(p.graphAt("1"), itemsOnly);
    expect(resumed.run.status, resumed.run.error ?? "").toBe("succeeded");
    // what committed before the crash is not written again
    expect(resumed.counts.Item.written).toBe(45_000 - loadedBeforeCrash);
    expect((await p.graphState()).length).toBe(45_000);

    // a new code version: everything rewritten, and what an older load left behind is swept
    await runInBatches(
      env.neo4j,
      `CREATE (:${p.label} {itemId: 'orphan', ingestAsset: $asset, ingestRunId: 'an-old-run'})`,
      {
        asset: p.key("Item"),
      },
    );
    const refreshed = await p.run(p.graphAt("2"), itemsOnly);
    expect(refreshed.counts.Item).toMatchObject({ written: 45_000, removed: 1, fullRefresh: 1 });
    const versions = await runInBatches(env.neo4j, `MATCH (n:${p.label}) RETURN n.codeVersion AS v, count(*) AS n`);
    expect(versions.map((r) => [r.get("v"), r.get("n").toNumber()])).toEqual([["2", 45_000]]);
  });

  it("writes each relationship once in a full refresh, also after a crash in the middle of one", async () => {
    const p = project();
    p.state.items = items(45_000);
    const graphOnly = ["items", "shelves", "Shelf", "Item", "ON_SHELF"];
    const relationships = async () => {
      const [row] = await runInBatches(
        env.neo4j,
        `MATCH (n:${p.label})-[r:${p.type}]->() WITH n, collect(r.codeVersion) AS versions
         RETURN count(n) AS items, sum(size(versions)) AS relationships, collect(DISTINCT versions) AS kinds`,
      );
      return {
        items: row!.get("items").toNumber(),
        relationships: row!.get("relationships").toNumber(),
        kinds: row!.get("kinds"),
      };
    };
    // the first load, three pages
    const first = await p.run(p.graphAt("1"), graphOnly);
    expect(first.counts.ON_SHELF).toMatchObject({ written: 45_000, fullRefresh: 1 });
    expect(await relationships()).toMatchObject({ items: 45_000, relationships: 45_000, kinds: [["1"]] });

    // a new code version: a full refresh updates each relationship in place
    const refreshed = await p.run(p.graphAt("2"), graphOnly);
    expect(refreshed.counts.ON_SHELF).toMatchObject({ written: 45_000, removed: 0, fullRefresh: 1 });
    expect(await relationships()).toMatchObject({ items: 45_000, relationships: 45_000, kinds: [["2"]] });

    // a refresh that fails in its third page, after which its second page's cursor move is lost too (as
    // when the process dies between writing a page and recording it): the page is written again, once
    p.state.relationshipFailAt = item(42_000).itemId;
    const crashed = await p.run(p.graphAt("3"), graphOnly);
    expect(crashed.run.status).toBe("failed");
    const { rows } = await env.pool.query(
      `select version from staging.inc_${p.id}_items order by version offset 19999 limit 1`,
    );
    await env.pool.query("update staging.load_cursors set position = $2 where consumer = $1", [
      p.key("ON_SHELF"),
      rows[0].version,
    ]);
    console.log(
      "CURSOR",
      JSON.stringify(
        (await env.pool.query("select * from staging.load_cursors where consumer = $1", [p.key("ON_SHELF")])).rows,
      ),
      rows[0].version,
    );
    p.state.relationshipFailAt = undefined;
    const resumed = await p.run(p.graphAt("3"), graphOnly);
    expect(resumed.run.status, resumed.run.error ?? "").toBe("succeeded");
    expect(resumed.counts.ON_SHELF).toMatchObject({ written: 25_000, removed: 0 });
    expect(await relationships()).toMatchObject({ items: 45_000, relationships: 45_000, kinds: [["3"]] });
  });

  it("reloads everything when a run asks for a full refresh, and only that once", async () => {
    const p = project();
    p.state.items = items(20);
    const graph = p.graphAt("1");
    await p.run(graph, ["items", "shelves", "Shelf", "Item"]);
    const refresh = await materialize(env.pool, graph, [p.key("Item")], { fullRefresh: true });
    const { rows } = await env.pool.query(
      "select counts from ingest.materializations where run_id = $1 and asset_key = $2",
      [refresh.run.id, p.key("Item")],
    );
    expect(rows[0].counts).toMatchObject({ written: 20, fullRefresh: 1 });
    expect((await p.run(graph, ["Item"])).counts.Item).toMatchObject({ written: 0, fullRefresh: 0 });
  });
});
