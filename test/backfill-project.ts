import { mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { type AssetDefinition, defineAsset } from "../engine/asset.ts";
import { defineDefinitions, type Definitions } from "../engine/definitions.ts";
import { dailyPartitions } from "../engine/partitions.ts";
import { versionHash } from "../engine/versions.ts";
import { canonicalJson } from "../engine/canonical-json.ts";
import { chromaKind, type ChromaResource, chromaResource } from "../connectors/chroma/index.ts";
import {
  type Driver,
  ensureUniqueKey,
  mergeNodes,
  mergeRelationships,
  neo4jKind,
  neo4jResource,
  runInBatches,
} from "../connectors/neo4j/index.ts";
import { defineStagedAsset, type Staging, stagingKind, stagingResource } from "../connectors/staging/index.ts";
import { embedderKind, embedderResource } from "../resources/embedder-resource.ts";
import type { Embedder } from "../resources/embedder.ts";
import { packageRoot } from "../resources/settings.ts";

/** Thirty days of a small shop, one partition a day: what the scale-out test backfills. */
export const backfillDays = dailyPartitions({ start: "2025-11-01", end: "2025-12-01", timezone: "UTC" });
export const firstDay = "2025-11-01";
export const lastDay = "2025-11-30";

const ShopOrder = z.object({
  orderId: z.string(),
  customerId: z.string(),
  orderedAt: z.string(),
  total: z.number(),
  currency: z.enum(["EUR", "USD"]),
  status: z.enum(["paid", "shipped", "cancelled"]),
  note: z.string(),
});
type ShopOrder = z.infer<typeof ShopOrder>;

const notes = [
  "please leave the parcel with the neighbour",
  "gift wrap, no invoice in the box",
  "the kettle arrived dented last time",
  "deliver after six in the evening",
  "two pairs of running shoes, size 42",
  "urgent: birthday on Friday",
];

/** The orders placed on `day` (`YYYY-MM-DD`): eight a day, the same every time. */
export function ordersOn(day: string): ShopOrder[] {
  const n = Number(day.slice(8, 10));
  return Array.from({ length: 8 }, (_, i) => {
    const seq = n * 8 + i;
    return {
      orderId: `O${day.replaceAll("-", "")}-${i}`,
      customerId: `C${seq % 23}`,
      orderedAt: `${day}T${String(8 + i).padStart(2, "0")}:${String((seq * 7) % 60).padStart(2, "0")}:00.000Z`,
      total: Math.round(((seq * 1373) % 20_000) + 499) / 100,
      currency: seq % 5 === 0 ? "USD" : "EUR",
      status: seq % 11 === 0 ? "cancelled" : seq % 3 === 0 ? "shipped" : "paid",
      note: `${notes[seq % notes.length]} (order ${i + 1} of the day)`,
    };
  });
}

/** The concurrency limits of every backfill project: at most 3 materialisations at once, 2 of the graph, 1 embedding. */
export const backfillLimits = { global: 3, graph: 2, embed: 1 } as const;

/** The names a backfill project writes under: labels, relationship type, collection, staging table, groups. */
export function backfillNames(prefix: string) {
  return {
    order: `ScaleOut_${prefix}_Order`,
    day: `ScaleOut_${prefix}_Day`,
    placedOn: `${prefix}_PLACED_ON`,
    collection: `${prefix}-order-notes`,
    table: `${prefix}_orders`,
    groups: { load: `${prefix}_load`, graph: `${prefix}_graph`, embed: `${prefix}_embed` },
  };
}

/**
 * The asset, its materialisations reporting which host and process ran them (metadata `host` and
 * `pid`: the engine records no worker per step) and lasting at least `paceMs`, so that a backfill of
 * small days keeps several materialisations running at once.
 */
function reportingHost<A extends AssetDefinition>(asset: A, paceMs: number): A {
  return {
    ...asset,
    async materialize(ctx) {
      const started = Date.now();
      const result = await asset.materialize(ctx);
      await sleep(Math.max(0, paceMs - (Date.now() - started)), undefined, { signal: ctx.signal });
      return { ...result, metadata: { ...result.metadata, host: hostname(), pid: process.pid } };
    },
  };
}

/**
 * A project of its own, every asset partitioned by {@link backfillDays}: the day's orders staged
 * (`<prefix>/orders`), `(:ScaleOut_<prefix>_Order)` and `(:ScaleOut_<prefix>_Day)` nodes, the
 * `<prefix>_PLACED_ON` relationships between them, and each order's note embedded into the collection
 * `<prefix>-order-notes`, under the limits of {@link backfillLimits}. Its resources come from the
 * environment (`DATABASE_URL`, `NEO4J_URI`, `CHROMA_URL`, `EMBEDDING_MODEL_PATH`), as on any host.
 */
export function backfillDefinitions(prefix: string, options: { paceMs?: number } = {}): Definitions {
  const names = backfillNames(prefix);
  const retry = { maxAttempts: 3, initialDelayMs: 200 };
  const lineage = (ctx: { runId: string; assetKey: string }) => ({ ingestRunId: ctx.runId, ingestAsset: ctx.assetKey });
  const readDay = async (staging: Staging, partitionKey: string | undefined) => {
    const { start, end } = backfillDays.window(partitionKey!);
    return (await staging.readWindow<ShopOrder>(names.table, "orderedAt", start, end)).map((s) => s.record);
  };

  const orders = defineStagedAsset<ShopOrder>({
    key: `${prefix}/orders`,
    group: names.groups.load,
    codeVersion: "1",
    partitions: backfillDays,
    retry,
    table: names.table,
    source: "shop.orders",
    model: ShopOrder,
    sourceKey: (o) => o.orderId,
    rawKey: (raw) => raw.orderId,
    extract: ({ partitionKey }) => ordersOn(partitionKey!),
  });
  const orderNodes = defineAsset<{ staging: Staging; neo4j: Driver }>({
    key: `${prefix}/Order`,
    group: names.groups.graph,
    deps: [orders.key],
    resources: [stagingKind, neo4jKind],
    codeVersion: "1",
    partitions: backfillDays,
    retry,
    target: { kind: "neo4j-nodes", label: names.order, keyProperty: "orderId" },
    async materialize(ctx) {
      const { staging, neo4j } = ctx.resources;
      const day = await readDay(staging, ctx.partitionKey);
      await ensureUniqueKey(neo4j, names.order, "orderId");
      const rows = day.map(({ note: _, ...order }) => ({ key: order.orderId, props: { ...order, ...lineage(ctx) } }));
      const { written } = await mergeNodes(neo4j, names.order, "orderId", rows);
      return { counts: { written }, dataVersion: versionHash(JSON.stringify(rows.map((r) => r.key))) };
    },
  });
  const dayNodes = defineAsset<{ staging: Staging; neo4j: Driver }>({
    key: `${prefix}/Day`,
    group: names.groups.graph,
    deps: [orders.key],
    resources: [stagingKind, neo4jKind],
    codeVersion: "1",
    partitions: backfillDays,
    retry,
    target: { kind: "neo4j-nodes", label: names.day, keyProperty: "date" },
    async materialize(ctx) {
      const { staging, neo4j } = ctx.resources;
      const kept = (await readDay(staging, ctx.partitionKey)).filter((o) => o.status !== "cancelled");
      const day = {
        date: ctx.partitionKey!,
        orders: kept.length,
        customers: new Set(kept.map((o) => o.customerId)).size,
        revenue: Math.round(kept.reduce((sum, o) => sum + o.total, 0) * 100) / 100,
      };
      await ensureUniqueKey(neo4j, names.day, "date");
      await mergeNodes(neo4j, names.day, "date", [{ key: day.date, props: { ...day, ...lineage(ctx) } }], {
        integers: ["orders", "customers"],
      });
      return { counts: { written: 1 }, dataVersion: versionHash(JSON.stringify(day)) };
    },
  });
  const placedOn = defineAsset<{ staging: Staging; neo4j: Driver }>({
    key: `${prefix}/PLACED_ON`,
    group: names.groups.graph,
    deps: [orders.key, orderNodes.key, dayNodes.key],
    resources: [stagingKind, neo4jKind],
    codeVersion: "1",
    partitions: backfillDays,
    retry,
    async materialize(ctx) {
      const { staging, neo4j } = ctx.resources;
      const rows = (await readDay(staging, ctx.partitionKey)).map((o) => ({
        start: o.orderId,
        end: ctx.partitionKey!,
        props: { total: o.total, ...lineage(ctx) },
      }));
      const { written, missingEnds } = await mergeRelationships(
        neo4j,
        names.placedOn,
        { label: names.order, key: "orderId" },
        { label: names.day, key: "date" },
        rows,
      );
      if (missingEnds > 0) throw new Error(`${missingEnds} orders or their day are not in the graph`);
      return { counts: { written }, dataVersion: versionHash(JSON.stringify(rows.map((r) => r.start))) };
    },
  });
  const orderNotes = defineAsset<{ staging: Staging; chroma: ChromaResource; embedder: Embedder }>({
    key: `${prefix}/order_notes`,
    group: names.groups.embed,
    deps: [orders.key],
    resources: [stagingKind, chromaKind, embedderKind],
    codeVersion: "1",
    partitions: backfillDays,
    retry,
    target: { kind: "chroma-collection", collection: names.collection },
    async materialize(ctx) {
      const { staging, chroma, embedder } = ctx.resources;
      const day = await readDay(staging, ctx.partitionKey);
      const written = await chroma.upsert(names.collection, {
        ids: day.map((o) => o.orderId),
        embeddings: await embedder.embed(day.map((o) => o.note)),
        documents: day.map((o) => o.note),
        metadatas: day.map((o) => ({
          date: ctx.partitionKey,
          customerId: o.customerId,
          status: o.status,
          total: o.total,
          ...lineage(ctx),
        })),
      });
      return { counts: { written }, dataVersion: versionHash(JSON.stringify(day)) };
    },
  });

  const paceMs = options.paceMs ?? 0;
  return defineDefinitions({
    assets: [orders, orderNodes, dayNodes, placedOn, orderNotes].map((asset) => reportingHost(asset, paceMs)),
    resources: {
      staging: stagingResource(),
      neo4j: neo4jResource(),
      chroma: chromaResource(),
      embedder: embedderResource(),
    },
    concurrency: {
      global: backfillLimits.global,
      groups: { [names.groups.graph]: backfillLimits.graph, [names.groups.embed]: backfillLimits.embed },
    },
  });
}

/** A definitions module for `ingest --definitions` holding `backfillDefinitions(prefix, options)`. */
export function writeBackfillDefinitions(dir: string, prefix: string, options: { paceMs?: number } = {}): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${prefix}.definitions.ts`);
  writeFileSync(
    file,
    `import { backfillDefinitions } from ${JSON.stringify(join(packageRoot, "test", "backfill-project.ts"))};\n` +
      `export default backfillDefinitions(${JSON.stringify(prefix)}, ${JSON.stringify(options)});\n`,
  );
  return file;
}

/**
 * What a backfill project left in Neo4j and Chroma, with its prefix replaced by `P` and run ids left out
 * (they differ by design): nodes by labels and properties, relationships by type, end keys and
 * properties, documents by id, text and metadata, each list sorted; and the vectors by id.
 */
export async function backfillSnapshot(neo4j: Driver, chroma: ChromaResource, prefix: string) {
  const names = backfillNames(prefix);
  const withoutRun = ({ ingestRunId: _, ...rest }: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, neo4jNumber(v)]));
  const sorted = (entries: unknown[]) =>
    entries.map((e) => canonicalJson(e).replaceAll(prefix, "P")).sort().map((e) => JSON.parse(e) as unknown);
  const nodes = await neo4j.executeQuery(
    `MATCH (n) WHERE n:${names.order} OR n:${names.day} RETURN labels(n) AS labels, properties(n) AS props`,
    {},
    { routing: "READ" },
  );
  const relationships = await neo4j.executeQuery(
    `MATCH (a)-[r:${names.placedOn}]->(b) RETURN type(r) AS type, labels(a) AS startLabels, a.orderId AS start,
       labels(b) AS endLabels, b.date AS end, properties(r) AS props`,
    {},
    { routing: "READ" },
  );
  const collection = await chroma.collection(names.collection);
  const documents = await collection.get({ include: ["documents", "metadatas", "embeddings"] });
  return {
    nodes: sorted(nodes.records.map((r) => ({ labels: r.get("labels"), props: withoutRun(r.get("props")) }))),
    relationships: sorted(relationships.records.map((r) => ({
      type: r.get("type"),
      start: [r.get("startLabels"), r.get("start")],
      end: [r.get("endLabels"), r.get("end")],
      props: withoutRun(r.get("props")),
    }))),
    documents: sorted(documents.ids.map((id, i) => ({
      id,
      document: documents.documents[i],
      metadata: withoutRun(documents.metadatas[i] ?? {}),
    }))),
    vectors: new Map(documents.ids.map((id, i) => [id, documents.embeddings[i] as number[]])),
  };
}

/** A neo4j Integer as a number; anything else as it is. */
function neo4jNumber(value: unknown): unknown {
  const integer = value as { toNumber?: () => number; low?: number; high?: number };
  return typeof integer?.toNumber === "function" && "low" in integer ? integer.toNumber() : value;
}

/** Deletes what a backfill project wrote to Neo4j and Chroma: its nodes, their constraints and its collection. */
export async function dropBackfill(stores: { neo4j: Driver; chroma: ChromaResource }, prefix: string): Promise<void> {
  const names = backfillNames(prefix);
  for (const [label, key] of [[names.order, "orderId"], [names.day, "date"]] as const) {
    await runInBatches(stores.neo4j, `MATCH (n:${label}) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS`);
    await stores.neo4j.executeQuery(`DROP CONSTRAINT ${label.toLowerCase()}_${key}_unique IF EXISTS`);
  }
  await stores.chroma.drop(names.collection);
}
