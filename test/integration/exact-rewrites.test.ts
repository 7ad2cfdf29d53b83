import { randomUUID } from "node:crypto";
import neo4jDriver, { type Driver } from "neo4j-driver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { type ChromaResource, connectChroma, defineCollectionAsset } from "../../connectors/chroma/index.ts";
import { connectNeo4j, defineNodeAsset, defineRelationshipAsset, runInBatches } from "../../connectors/neo4j/index.ts";
import { findNodeRecord } from "../../connectors/neo4j/lineage.ts";
import { defineStagedAsset, type StagedAsset, Staging } from "../../connectors/staging/index.ts";
import type { AssetDefinition } from "../../engine/asset.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { defineResource } from "../../engine/resource.ts";
import { assetStatuses } from "../../engine/status.ts";
import { prepareDatabase } from "../../engine/worker.ts";
import { type Embedder, loadEmbedder } from "../../resources/embedder.ts";
import { createPool, type pg } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { startThrowawayChroma, type ThrowawayChroma } from "../../stack/chroma.ts";
import { startThrowawayNeo4j, type ThrowawayNeo4j } from "../../stack/neo4j.ts";
import { connect, materialize } from "../support.ts";

/**
 * Every kind of source change, loaded incrementally, leaves Neo4j, Chroma and the records held back
 * exactly as a fresh full load of the same source into a second Neo4j, Chroma and database does:
 * ends that move, foreign keys that become null, records and end nodes that go and come back,
 * node keys that change, relationships that share their two nodes.
 */
const id = randomUUID().slice(0, 8);
const prefix = `Ex${id}_`;
const typePrefix = `EX${id.toUpperCase()}_`;
const collectionName = `ex-${id}-products`;

const Supplier = z.object({ supplierId: z.string(), name: z.string() });
const Product = z.object({
  productId: z.string(),
  sku: z.string(),
  name: z.string(),
  supplierId: z.string().nullable(),
});
const Customer = z.object({ customerId: z.string(), name: z.string() });
const Warehouse = z.object({ warehouseId: z.number().int(), city: z.string() });
const Order = z.object({
  orderId: z.string(),
  customerId: z.string(),
  shipFrom: z.number().int(),
  shipTo: z.number().int(),
  total: z.number(),
});
type Source = {
  suppliers: z.infer<typeof Supplier>[];
  products: z.infer<typeof Product>[];
  customers: z.infer<typeof Customer>[];
  warehouses: z.infer<typeof Warehouse>[];
  orders: z.infer<typeof Order>[];
};

let source: Source;
const copy = <T>(rows: T[]) => async () => structuredClone(rows);

const staged = <T>(name: keyof Source, model: z.ZodType<T>, key: (r: T) => string) =>
  defineStagedAsset<T>({
    key: `ex_${id}/${name}`,
    codeVersion: "1",
    table: `ex_${id}_${name}`,
    source: `test.${name}`,
    model,
    sourceKey: key,
    rawKey: (raw) => key(raw),
    extract: () => copy(source[name] as T[])(),
  });

const suppliers = staged("suppliers", Supplier, (s) => s.supplierId);
const products = staged("products", Product, (p) => p.productId);
const customers = staged("customers", Customer, (c) => c.customerId);
const warehouses = staged("warehouses", Warehouse, (w) => String(w.warehouseId));
const orders = staged("orders", Order, (o) => o.orderId);

/** The project at a code version: the graph's and the collection's assets (the staged ones do not change). */
function defineAssets(codeVersion: string) {
  const nodes = <T extends Record<string, unknown>>(
    name: string,
    from: StagedAsset<T>,
    keyProperty: string,
    integers?: string[],
  ) =>
    defineNodeAsset<T>({
      key: `ex_${id}/${name}`,
      codeVersion,
      label: `${prefix}${name}`,
      keyProperty,
      integers,
      from,
      properties: (r) => ({ ...r }),
    });

  const supplierNodes = nodes("Supplier", suppliers, "supplierId");
  // Keyed by sku while the source key is productId: a product's node moves when its sku changes.
  const productNodes = nodes("Product", products, "sku");
  const customerNodes = nodes("Customer", customers, "customerId");
  const warehouseNodes = nodes("Warehouse", warehouses, "warehouseId", ["warehouseId"]);
  const orderNodes = nodes("Order", orders, "orderId", undefined);

  const supplies = defineRelationshipAsset<z.infer<typeof Product>>({
    key: `ex_${id}/SUPPLIES`,
    codeVersion,
    type: `${typePrefix}SUPPLIES`,
    from: products,
    start: { node: supplierNodes, value: (p) => p.supplierId },
    end: { node: productNodes, value: (p) => p.sku },
  });
  const placed = defineRelationshipAsset<z.infer<typeof Order>>({
    key: `ex_${id}/PLACED`,
    codeVersion,
    type: `${typePrefix}PLACED`,
    from: orders,
    start: { node: customerNodes, value: (o) => o.customerId },
    end: { node: orderNodes, value: (o) => o.orderId },
  });
  // Neither end is the record's own node, and two orders may ship between the same two warehouses.
  const shipsTo = defineRelationshipAsset<z.infer<typeof Order>>({
    key: `ex_${id}/SHIPS_TO`,
    codeVersion,
    type: `${typePrefix}SHIPS_TO`,
    from: orders,
    start: { node: warehouseNodes, value: (o) => o.shipFrom },
    end: { node: warehouseNodes, value: (o) => o.shipTo },
    properties: (o) => ({ orderId: o.orderId, total: o.total }),
  });
  const productVectors = defineCollectionAsset<z.infer<typeof Product>>({
    key: `ex_${id}/product_vectors`,
    codeVersion,
    collection: collectionName,
    from: products,
    document: (p) => p.name,
    metadata: (p) => ({ sku: p.sku, supplier: p.supplierId }),
  });

  const all: AssetDefinition[] = [
    suppliers,
    products,
    customers,
    warehouses,
    orders,
    supplierNodes,
    productNodes,
    customerNodes,
    warehouseNodes,
    orderNodes,
    supplies,
    placed,
    shipsTo,
    productVectors,
  ];
  return { all, supplies, warehouseNodes };
}
const { all: assets, supplies, warehouseNodes } = defineAssets("1");

let embedder: Embedder;
let env: Awaited<ReturnType<typeof connect>>;
let fullNeo4j: ThrowawayNeo4j;
let fullChroma: ThrowawayChroma;
let fullDriver: Driver;
let fullChromaClient: ChromaResource;
const admin = () => createPool(settings().databaseUrl, 1);
const fullDatabase = `ex_full_${id}`;

function graphOf(
  databaseUrl: string,
  neo4j: () => Driver,
  chroma: () => Promise<ChromaResource>,
  all = assets,
) {
  return buildAssetGraph({
    assets: all,
    resources: {
      staging: defineResource({ setup: () => new Staging(createPool(databaseUrl)), teardown: (s) => s.close() }),
      neo4j: defineResource({ setup: neo4j, teardown: (d) => d.close() }),
      chroma: defineResource({ setup: chroma }),
      embedder: defineResource({ setup: () => embedder }),
    },
  });
}

const withDatabase = (name: string) => {
  const url = new URL(settings().databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

/** The incremental side: the test stack, loaded run after run as the source changes. */
const incremental = (all = assets) => graphOf(settings().databaseUrl, () => connectNeo4j(), () => connectChroma(), all);

/** The reference: everything wiped, then one full load of the source as it is now. */
async function fullLoad() {
  const pool = admin();
  try {
    await pool.query(`drop database if exists ${fullDatabase} with (force)`);
    await pool.query(`create database ${fullDatabase}`);
  } finally {
    await pool.end();
  }
  await runInBatches(fullDriver, "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS");
  await fullChromaClient.drop(collectionName);
  const fullPool = createPool(withDatabase(fullDatabase));
  try {
    await prepareDatabase(fullPool);
    const full = graphOf(
      withDatabase(fullDatabase),
      () => connectNeo4j({ uri: fullNeo4j.uri, user: fullNeo4j.user, password: fullNeo4j.password, external: true }),
      () => connectChroma(fullChroma.url),
    );
    const { run } = await materialize(fullPool, full);
    expect(run.status, run.error ?? "").toBe("succeeded");
    return { pending: await pendingOf(fullPool) };
  } finally {
    await fullPool.end();
  }
}

/** Values with their Neo4j type: an INTEGER and a FLOAT of the same value are different. */
const typed = (value: unknown): unknown =>
  neo4jDriver.isInt(value)
    ? `int ${value.toString()}`
    : typeof value === "number"
    ? `float ${value}`
    : Array.isArray(value)
    ? value.map(typed)
    : value;
const properties = (props: Record<string, unknown>) =>
  Object.entries(props).filter(([k]) => k !== "ingestRunId").sort(([a], [b]) => (a < b ? -1 : 1)).map((
    [k, v],
  ) => `${k}=${JSON.stringify(typed(v))}`).join(", ");

/** Every node and relationship of the test's labels and types, with every property but the run id. */
async function dump(driver: Driver) {
  const nodes = await driver.executeQuery(
    "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH $prefix) RETURN labels(n) AS labels, properties(n) AS props",
    { prefix },
  );
  const relationships = await driver.executeQuery(
    `MATCH (a)-[r]->(b) WHERE type(r) STARTS WITH $typePrefix
     RETURN type(r) AS type, labels(a) AS from, properties(a) AS a, labels(b) AS to, properties(b) AS b, properties(r) AS props`,
    { typePrefix },
  );
  const node = (labels: string[], props: Record<string, unknown>) => `(:${labels.join(":")} {${properties(props)}})`;
  return {
    nodes: nodes.records.map((r) => node(r.get("labels"), r.get("props"))).sort(),
    relationships: relationships.records.map((r) =>
      `${node(r.get("from"), r.get("a"))}-[:${r.get("type")} {${properties(r.get("props"))}}]->${
        node(r.get("to"), r.get("b"))
      }`
    ).sort(),
  };
}

async function documents(chroma: ChromaResource) {
  const collection = await chroma.collection(collectionName);
  const all = await collection.get({ include: ["documents", "metadatas", "embeddings"] as never });
  return all.ids.map((docId, i) => {
    const { run_id: _run, ...metadata } = all.metadatas[i] ?? {};
    return { id: docId, document: all.documents[i], metadata, embedding: all.embeddings[i] as number[] };
  }).sort((a, b) => (a.id < b.id ? -1 : 1));
}

async function pendingOf(pool: pg.Pool) {
  const { rows } = await pool.query(
    "select consumer, source_key, reason from staging.pending where consumer like $1 order by 1, 2",
    [`ex_${id}/%`],
  );
  return rows;
}

const cosine = (a: number[], b: number[]) => {
  let [dot, na, nb] = [0, 0, 0];
  for (let i = 0; i < a.length; i++) [dot, na, nb] = [dot + a[i]! * b[i]!, na + a[i]! ** 2, nb + b[i]! ** 2];
  return dot / Math.sqrt(na * nb);
};

/** One change of the source: the incremental load, then the comparison with a full load; the incremental counts. */
async function step(all = assets) {
  const graph = incremental(all);
  const { run } = await materialize(env.pool, graph, graph.order);
  expect(run.status, run.error ?? "").toBe("succeeded");
  const { rows } = await env.pool.query(
    "select asset_key, counts from ingest.materializations where run_id = $1 and status = 'succeeded'",
    [run.id],
  );
  const statuses = await assetStatuses(env.db, graph, graph.order);
  expect(statuses.filter((s) => s.state !== "fresh").map((s) => [s.assetKey, s.reasons])).toEqual([]);

  const { pending: fullPending } = await fullLoad();
  expect(await dump(env.neo4j)).toEqual(await dump(fullDriver));
  expect(await pendingOf(env.pool)).toEqual(fullPending);
  const [ours, reference] = [await documents(env.chroma), await documents(fullChromaClient)];
  expect(ours.map(({ embedding: _, ...d }) => d)).toEqual(reference.map(({ embedding: _, ...d }) => d));
  // q8 quantises per batch: the same text embedded in another batch is close, not bit-identical.
  ours.forEach((d, i) => expect(cosine(d.embedding, reference[i]!.embedding)).toBeGreaterThan(0.98));
  return Object.fromEntries(rows.map((r) => [r.asset_key.split("/")[1], r.counts])) as Record<
    string,
    Record<string, number>
  >;
}

beforeAll(async () => {
  [env, embedder, fullNeo4j, fullChroma] = await Promise.all([
    connect(),
    loadEmbedder(),
    startThrowawayNeo4j(),
    startThrowawayChroma(),
  ]);
  fullDriver = connectNeo4j({ uri: fullNeo4j.uri, user: fullNeo4j.user, password: fullNeo4j.password, external: true });
  fullChromaClient = await connectChroma(fullChroma.url);
  source = {
    suppliers: ["s1", "s2", "s3"].map((s) => ({ supplierId: s, name: `supplier ${s}` })),
    products: [
      { productId: "p1", sku: "SKU-1", name: "oak desk", supplierId: "s1" },
      { productId: "p2", sku: "SKU-2", name: "desk lamp", supplierId: "s1" },
      { productId: "p3", sku: "SKU-3", name: "office chair", supplierId: "s1" },
      { productId: "p4", sku: "SKU-4", name: "bookshelf", supplierId: "s2" },
      { productId: "p5", sku: "SKU-5", name: "filing cabinet", supplierId: "s2" },
      { productId: "p6", sku: "SKU-6", name: "standing mat", supplierId: "s3" },
    ],
    customers: ["c1", "c2"].map((c) => ({ customerId: c, name: `customer ${c}` })),
    warehouses: [1, 2, 3].map((w) => ({ warehouseId: w, city: `city ${w}` })),
    orders: [
      { orderId: "o1", customerId: "c1", shipFrom: 1, shipTo: 2, total: 10 },
      { orderId: "o2", customerId: "c1", shipFrom: 1, shipTo: 3, total: 20 },
      { orderId: "o3", customerId: "c2", shipFrom: 2, shipTo: 3, total: 30 },
      { orderId: "o4", customerId: "c2", shipFrom: 2, shipTo: 3, total: 40 },
    ],
  };
});

afterAll(async () => {
  await runInBatches(
    env.neo4j,
    "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH $prefix) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS",
    { prefix },
  );
  await env.chroma.drop(collectionName);
  for (const name of ["suppliers", "products", "customers", "warehouses", "orders"]) {
    await env.pool.query(`drop table if exists staging.ex_${id}_${name}`);
  }
  for (const table of ["staging.pending", "staging.load_cursors"]) {
    await env.pool.query(`delete from ${table} where consumer like $1`, [`ex_${id}/%`]);
  }
  await fullDriver?.close();
  await Promise.all([fullNeo4j?.stop(), fullChroma?.stop()]);
  const pool = admin();
  await pool.query(`drop database if exists ${fullDatabase} with (force)`).finally(() => pool.end());
  await embedder?.close();
  await env?.close();
});

const product = (productId: string) => source.products.find((p) => p.productId === productId)!;
const order = (orderId: string) => source.orders.find((o) => o.orderId === orderId)!;

// The steps run in order, each on the source the previous one left: each is one kind of change.
describe("an incremental load equals a full load of the same source", () => {
  it("after the first load", async () => {
    const counts = await step();
    expect(counts.SUPPLIES).toMatchObject({ written: 6, fullRefresh: 1 });
    expect(counts.SHIPS_TO).toMatchObject({ written: 4, fullRefresh: 1 });
  });

  it("when a relationship's start moves: a product to another supplier, an order to another customer", async () => {
    product("p3").supplierId = "s2";
    order("o2").customerId = "c2";
    const counts = await step();
    expect(counts.SUPPLIES).toMatchObject({ written: 1, moved: 1, removed: 0 });
    expect(counts.PLACED).toMatchObject({ written: 1, moved: 1, removed: 0 });
  });

  it("when a relationship's end moves", async () => {
    order("o1").shipTo = 3;
    expect((await step()).SHIPS_TO).toMatchObject({ written: 1, moved: 1 });
  });

  it("when both ends move", async () => {
    Object.assign(order("o3"), { shipFrom: 1, shipTo: 2 });
    expect((await step()).SHIPS_TO).toMatchObject({ written: 1, moved: 1 });
  });

  it("when a foreign key becomes null: the relationship goes, nothing waits", async () => {
    product("p4").supplierId = null;
    const counts = await step();
    expect(counts.SUPPLIES).toMatchObject({ written: 0, removed: 1, pending: 0 });
  });

  it("when records are deleted: their nodes, their relationships and those that went with their nodes", async () => {
    source.orders = source.orders.filter((o) => o.orderId !== "o4");
    source.products = source.products.filter((p) => p.productId !== "p5");
    const counts = await step();
    expect(counts.Order).toMatchObject({ removed: 1 });
    // PLACED lost o4's relationship with the Order node; SHIPS_TO and SUPPLIES with their own record
    expect(counts.PLACED).toMatchObject({ removed: 1 });
    expect(counts.SHIPS_TO).toMatchObject({ removed: 1 });
    expect(counts.SUPPLIES).toMatchObject({ removed: 1 });
    expect(counts.product_vectors).toMatchObject({ removed: 1 });
  });

  it("when the deleted records come back", async () => {
    source.orders.push({ orderId: "o4", customerId: "c2", shipFrom: 2, shipTo: 3, total: 40 });
    source.products.push({ productId: "p5", sku: "SKU-5", name: "filing cabinet", supplierId: "s2" });
    const counts = await step();
    expect(counts.PLACED).toMatchObject({ written: 1 });
    expect(counts.SUPPLIES).toMatchObject({ written: 1 });
  });

  it("when a node's key changes: the node under the old key goes, and what pointed at it", async () => {
    product("p6").sku = "SKU-6B";
    const counts = await step();
    expect(counts.Product).toMatchObject({ written: 1, moved: 1 });
    // SUPPLIES lost p6's relationship with the old node, and wrote it to the new one
    expect(counts.SUPPLIES).toMatchObject({ written: 1, removed: 1, resolved: 1, pending: 0 });
  });

  it("when an end node goes: its relationships wait for it, as in a full load", async () => {
    source.suppliers = source.suppliers.filter((s) => s.supplierId !== "s3");
    const counts = await step();
    expect(counts.SUPPLIES).toMatchObject({ removed: 1, pending: 1 });
    const { rows } = await env.pool.query("select reason from staging.pending where consumer = $1", [supplies.key]);
    expect(rows).toEqual([{ reason: `no (:${prefix}Supplier {supplierId: "s3"}) in the graph` }]);
  });

  it("when the end node comes back", async () => {
    source.suppliers.push({ supplierId: "s3", name: "supplier s3" });
    expect((await step()).SUPPLIES).toMatchObject({ written: 1, resolved: 1, pending: 0 });
  });

  it("when an integer-keyed end node goes and comes back", async () => {
    source.warehouses = source.warehouses.filter((w) => w.warehouseId !== 3);
    // o1, o2 and o4 ship to or from warehouse 3
    expect((await step()).SHIPS_TO).toMatchObject({ removed: 3, pending: 3 });
    source.warehouses.push({ warehouseId: 3, city: "city 3" });
    expect((await step()).SHIPS_TO).toMatchObject({ written: 3, resolved: 3, pending: 0 });
  });

  it("when two records share a relationship's two nodes, and one of them goes", async () => {
    source.orders.push({ orderId: "o5", customerId: "c1", shipFrom: 1, shipTo: 3, total: 50 });
    expect((await step()).SHIPS_TO).toMatchObject({ written: 1 });
    source.orders = source.orders.filter((o) => o.orderId !== "o1");
    expect((await step()).SHIPS_TO).toMatchObject({ removed: 1 });
    const { records } = await env.neo4j.executeQuery(
      `MATCH (:${prefix}Warehouse {warehouseId: 1})-[r:${typePrefix}SHIPS_TO]->(:${prefix}Warehouse {warehouseId: 3})
       RETURN collect(r.orderId) AS orders`,
    );
    expect(records[0]!.get("orders").sort()).toEqual(["o2", "o5"]);
  });

  it("when only properties change, and nothing changes", async () => {
    product("p1").name = "oak writing desk";
    const counts = await step();
    expect(counts.Product).toMatchObject({ written: 1, moved: 0, removed: 0 });
    expect(counts.product_vectors).toMatchObject({ embedded: 1 });
    const again = await step();
    expect(Object.values(again).filter((c) => c.written || c.removed || c.moved)).toEqual([]);
  });

  it("when the code version changes: a full refresh leaves nothing of the older load", async () => {
    product("p2").supplierId = "s3";
    const counts = await step(defineAssets("2").all);
    // p4 has no supplier; p2's relationship from s1 was swept, the other four were updated in place
    expect(counts.SUPPLIES).toMatchObject({ fullRefresh: 1, written: 5, removed: 1 });
    expect(counts.Product).toMatchObject({ fullRefresh: 1, written: 6, removed: 0 });
  });

  it("finds the source record behind a node whose key is an integer", async () => {
    const record = await findNodeRecord(env.neo4j, [warehouseNodes], `${prefix}Warehouse:2`);
    expect(record).toMatchObject({ assetKey: warehouseNodes.key, source: "test.warehouses", sourceKey: "2" });
  });
});
