import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import definitions from "../../definitions.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { loadEmbedder } from "../../resources/embedder.ts";
import { runInBatches } from "../../connectors/neo4j/index.ts";
import { connectMongo } from "../../connectors/mongodb/index.ts";
import { packageRoot, sourcesDir } from "../../resources/settings.ts";
import { badReasonOf, type Entity, generate, type GenerationReport, indexOfId } from "../../samples/generate/index.ts";
import { connect, materialize } from "../support.ts";
import type { Order } from "../../assets/ec/models.ts";
import { salesDays } from "../../assets/ec/sales.ts";

const graph = buildAssetGraph(definitions);
let env: Awaited<ReturnType<typeof connect>>;
let catalog: Awaited<ReturnType<typeof connectMongo>>;
let report: GenerationReport;
let runId: string;

/** Each staged asset, the generator's entity it reads, and the label its node asset writes. */
const entities = [
  ["ec/categories", "categories", "Category"],
  ["ec/customers", "customers", "Customer"],
  ["ec/products", "products", "Product"],
  ["ec/orders", "orders", "Order"],
  ["ec/order_items", "order_items", null],
  ["ec/reviews", "reviews", "Review"],
  ["ec/payments", "payments", "Payment"],
  ["ec/shipments", "shipments", "Shipment"],
  ["crm/companies", "companies", "Company"],
  ["crm/contacts", "contacts", "Contact"],
  ["crm/deals", "deals", "Deal"],
  ["crm/interactions", "interactions", "Interaction"],
  ["chat/agents", "agents", "SupportAgent"],
  ["chat/sessions", "conversations", "ChatSession"],
  ["chat/messages", "chat_messages", "ChatMessage"],
  ["ec/tracking_events", "tracking_events", "TrackingEvent"],
  ["ec/order_analytics", "order_analytics", "OrderAnalytics"],
  ["ec/campaigns", "campaigns", "Campaign"],
  ["ec/variants", "variants", "Variant"],
  ["ec/web_sessions", "sessions", "Session"],
] as const;

const badCount = (entity: keyof GenerationReport["entities"]) =>
  Object.values(report.entities[entity]!.bad).reduce((a, b) => a + (b ?? 0), 0);

beforeAll(async () => {
  env = await connect();
  catalog = await connectMongo();
  await runInBatches(env.neo4j, "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS");
  for (const name of ["products", "reviews", "chat_messages", "crm_notes"]) await env.chroma.drop(name);
  await env.pool.query("drop schema if exists staging cascade");
  report = await generate({
    scale: 600,
    seed: 11,
    outDir: sourcesDir,
    shopPool: env.shop,
    crmDatabase: env.crmDatabase,
    catalog,
  });
  // graph/DailySales materialises a day per partition: the run backfills the sample's days.
  const { run } = await materialize(env.pool, graph, graph.order, { range: { from: "2025-12-01", to: "2025-12-31" } });
  runId = run.id;
  expect(run.status, run.error ?? "").toBe("succeeded");
});
afterAll(async () => {
  await catalog?.client.close();
  await env?.close();
});

describe("EC, CRM and chat into one graph and four collections", () => {
  it.each(entities)("accounts for every %s record the generator produced", async (assetKey, entity) => {
    const m = await env.db
      .selectFrom("ingest.materializations")
      .select("counts")
      .where("run_id", "=", runId)
      .where("asset_key", "=", assetKey)
      .where("status", "=", "succeeded")
      .executeTakeFirstOrThrow();
    const expected = report.entities[entity]!;
    expect(m.counts).toMatchObject({
      extracted: expected.generated,
      loaded: expected.expectedLoaded,
      deadLettered: badCount(entity),
      deduplicated: expected.duplicates,
    });
    const letters = await listDeadLetters(env.db, { runId, assetKey });
    expect(letters).toHaveLength(badCount(entity));
    for (const letter of letters) {
      expect(letter.issues.length).toBeGreaterThan(0);
      expect(letter.issues.every((i) => i.path && i.message)).toBe(true);
    }
  });

  /** Where each deliberate defect shows up in our model (samples/generate/README.md lists the defects). */
  const defectPaths: Partial<Record<Entity, Record<string, string>>> = {
    customers: { invalid_email: "email", missing_required_field: "email", unparseable_date: "createdAt" },
    products: { non_numeric_price: "price", unknown_currency: "currency", missing_required_field: "name" },
    orders: { unknown_currency: "currency", unparseable_date: "orderedAt", missing_required_field: "customerId" },
    reviews: { rating_out_of_range: "rating", unparseable_date: "createdAt", missing_required_field: "productId" },
    payments: { unknown_currency: "currency", unparseable_date: "paidAt", missing_required_field: "method" },
    shipments: { unparseable_date: "shippedAt", missing_required_field: "orderId" },
    contacts: { invalid_email: "email", missing_required_field: "email" },
    deals: { non_numeric_price: "amount", unknown_currency: "currency", unparseable_date: "closeDate" },
    tracking_events: { unparseable_date: "occurredAt", missing_required_field: "status" },
    sessions: { wrong_type: "pages", unparseable_date: "startedAt" },
  };

  it.each(entities.filter(([, entity]) => defectPaths[entity]))(
    "dead-letters exactly the %s records made bad on purpose, for their defect",
    async (assetKey, entity) => {
      const letters = await listDeadLetters(env.db, { runId, assetKey });
      const found = letters.map((l) => {
        const reason = badReasonOf(entity, indexOfId(l.sourceKey!));
        return [l.sourceKey, reason, l.issues[0]!.path];
      });
      expect(found).toEqual(
        letters.map((
          l,
        ) => [l.sourceKey, expect.any(String), defectPaths[entity]![badReasonOf(entity, indexOfId(l.sourceKey!))!]]),
      );
    },
  );

  it("writes one node per loaded record, carrying the run that wrote it", async () => {
    for (const [, entity, label] of entities) {
      if (!label) continue;
      const { records } = await env.neo4j.executeQuery(
        `MATCH (n:${label}) RETURN count(n) AS n, collect(DISTINCT n.ingestRunId) AS runs`,
      );
      expect([label, records[0]!.get("n").toNumber()]).toEqual([label, report.entities[entity]!.expectedLoaded]);
      expect(records[0]!.get("runs")).toEqual([runId]);
    }
  });

  it("links the MongoDB catalogue's variants to their products and its sessions to their customers", async () => {
    const { records } = await env.neo4j.executeQuery(
      `MATCH (:Product)-[h:HAS_VARIANT]->(:Variant) WITH count(h) AS variants
       MATCH (:Customer)-[s:HAD_SESSION]->(:Session) RETURN variants, count(s) AS sessions`,
    );
    expect({ variants: records[0]!.get("variants").toNumber(), sessions: records[0]!.get("sessions").toNumber() })
      .toEqual({
        variants: report.catalogue!.variantsOfLoadedProducts,
        sessions: report.catalogue!.sessionsOfLoadedCustomers,
      });
  });

  it("dead-letters the truncated Parquet export as one unparseable record naming the file, its bad rows for their defect", async () => {
    const letters = await listDeadLetters(env.db, { runId, assetKey: "ec/order_analytics" });
    const unreadable = letters.filter((l) => l.reason === "unparseable");
    expect(unreadable.map((l) => l.issues[0]!.message)).toEqual([
      expect.stringMatching(/analytics\/orders-2025-12\.parquet:1: not a complete Parquet file/),
    ]);
    const paths: Record<string, string> = { missing_required_field: "channel", unknown_currency: "currency" };
    const invalid = letters.filter((l) => l.reason === "invalid");
    expect(invalid).toHaveLength(badCount("order_analytics") - 1);
    expect(invalid.map((l) => [l.sourceKey, l.issues[0]!.path])).toEqual(
      invalid.map((l) => [l.sourceKey, paths[badReasonOf("order_analytics", indexOfId(l.sourceKey!))!]]),
    );
  });

  it("links tracking events to shipments, analytics to orders and campaigns, where both ends were loaded", async () => {
    const links = async (type: string, start: string, end: string) =>
      (await env.neo4j.executeQuery(`MATCH (:${start})-[r:${type}]->(:${end}) RETURN count(r) AS n`)).records[0]!
        .get("n").toNumber();
    const staged = async (table: string, key: string, other: string) =>
      Number(
        (await env.pool.query<{ n: string }>(
          `select count(*) as n from staging.${table} t where not t.removed
             and exists (select 1 from staging.${other} o where not o.removed and o.source_key = t.record->>'${key}')`,
        )).rows[0]!.n,
      );
    const events = await staged("ec_tracking_events", "shipmentId", "ec_shipments");
    const analytics = await staged("ec_order_analytics", "orderId", "ec_orders");
    // every event of a good shipment is in the feed's window, every good order's analytics outside the cut month
    expect(events).toBeGreaterThan(report.entities.tracking_events.expectedLoaded * 0.9);
    expect(analytics).toBeGreaterThan(report.entities.order_analytics.expectedLoaded * 0.9);
    expect(await links("HAD_EVENT", "Shipment", "TrackingEvent")).toBe(events);
    expect(await links("HAS_ANALYTICS", "Order", "OrderAnalytics")).toBe(analytics);
    const attributed = await staged("ec_order_analytics", "campaign", "ec_campaigns");
    expect(attributed).toBeGreaterThan(0);
    expect(await links("ATTRIBUTED_TO", "OrderAnalytics", "Campaign")).toBe(attributed);
  });

  it("sums each day's orders into a (:Day) node, one partition a day, from the staged orders of that Berlin day", async () => {
    const orders = (await env.pool.query<{ record: Order }>("select record from staging.ec_orders where not removed"))
      .rows.map((r) => r.record).filter((o) => o.status !== "cancelled");
    const expected = salesDays.keys().map((date) => {
      const { start, end } = salesDays.window(date);
      const day = orders.filter((o) => new Date(o.orderedAt) >= start && new Date(o.orderedAt) < end);
      return [date, day.length, new Set(day.map((o) => o.customerId)).size];
    });
    expect(expected).toHaveLength(31);
    expect(expected.some(([, n]) => (n as number) > 0)).toBe(true);
    const { records } = await env.neo4j.executeQuery(
      "MATCH (d:Day) RETURN d.date AS date, d.orders AS orders, d.customers AS customers ORDER BY date",
    );
    expect(records.map((r) => [r.get("date"), r.get("orders").toNumber(), r.get("customers").toNumber()]))
      .toEqual(expected);
  });

  it("resolves people across the three systems by normalised email", async () => {
    const { records } = await env.neo4j.executeQuery(
      `MATCH (p:Person)
       RETURN count(p) AS persons,
              sum(CASE WHEN EXISTS { (p)-[:IS]->(:Customer) } AND EXISTS { (p)-[:IS]->(:Contact) } THEN 1 ELSE 0 END) AS customerContacts,
              sum(CASE WHEN EXISTS { (p)-[:IS]->(:Customer) } AND EXISTS { (p)-[:STARTED]->(:ChatSession) } THEN 1 ELSE 0 END) AS customerChats`,
    );
    const row = records[0]!;
    expect({
      persons: row.get("persons").toNumber(),
      customersAlsoContacts: row.get("customerContacts").toNumber(),
      customersAlsoChatRequesters: row.get("customerChats").toNumber(),
    }).toEqual({
      persons: report.people.distinctPeople,
      customersAlsoContacts: report.people.customersAlsoContacts,
      customersAlsoChatRequesters: report.people.customersAlsoChatRequesters,
    });
  });

  it("fills the collections: 'wireless headphones' finds headphones, 'battery died' finds bad reviews", async () => {
    const sizes = Object.fromEntries(
      await Promise.all(
        ["products", "reviews", "chat_messages", "crm_notes"].map(async (
          name,
        ) => [name, await (await env.chroma.collection(name)).count()]),
      ),
    );
    expect(sizes).toEqual({
      products: report.entities.products.expectedLoaded,
      reviews: report.entities.reviews.expectedLoaded,
      chat_messages: report.entities.chat_messages.expectedLoaded,
      crm_notes: report.entities.interactions.expectedLoaded,
    });
    const embedder = await loadEmbedder();
    try {
      const [headphones] = await embedder.embed(["wireless headphones"]);
      const products = await (await env.chroma.collection("products")).query({
        queryEmbeddings: [headphones!],
        nResults: 1,
      });
      const { records } = await env.neo4j.executeQuery(
        "MATCH (:Product {productId: $id})-[:IN_CATEGORY]->(c:Category) RETURN c.name AS category",
        { id: products.ids[0]![0] },
      );
      expect(records[0]!.get("category")).toMatch(/headphones|earbuds/i);

      const [query] = await embedder.embed(["battery died after a week"]);
      const hits = await (await env.chroma.collection("reviews")).query({
        queryEmbeddings: [query!],
        nResults: 3,
        include: ["metadatas"],
      });
      const ratings = hits.metadatas[0]!.map((m) => Number(m?.rating));
      expect(ratings[0]).toBeLessThanOrEqual(2);
      expect(ratings.filter((r) => r <= 2).length).toBeGreaterThanOrEqual(2);
    } finally {
      await embedder.close();
    }
  });

  it("follows the source when a record changes or disappears: the graph and the collection too", async () => {
    const { rows } = await env.shop.query(
      "select product_id, category_id from shop.products where name is not null order by product_id limit 2",
    );
    const [gone, moved] = rows as { product_id: string; category_id: string }[];
    const { rows: other } = await env.shop.query(
      "select category_id from shop.categories where category_id <> $1 and parent_id is not null order by category_id limit 1",
      [moved!.category_id],
    );
    await env.shop.query("delete from shop.products where product_id = $1", [gone!.product_id]);
    await env.shop.query("update shop.products set category_id = $1, updated_at = now() where product_id = $2", [
      other[0]!.category_id,
      moved!.product_id,
    ]);

    const { run } = await materialize(env.pool, graph, [
      "ec/products",
      "graph/Product",
      "graph/IN_CATEGORY",
      "vectors/products",
    ]);
    expect(run.status, run.error ?? "").toBe("succeeded");
    const { records } = await env.neo4j.executeQuery(
      `MATCH (p:Product) WITH count(p) AS products
       OPTIONAL MATCH (:Product {productId: $gone}) WITH products, count(*) AS dummy
       MATCH (:Product {productId: $moved})-[:IN_CATEGORY]->(c:Category)
       RETURN products, collect(c.categoryId) AS categories`,
      { gone: gone!.product_id, moved: moved!.product_id },
    );
    expect(records[0]!.get("products").toNumber()).toBe(report.entities.products.expectedLoaded - 1);
    expect(records[0]!.get("categories")).toEqual([other[0]!.category_id]);
    const { records: ghosts } = await env.neo4j.executeQuery("MATCH (p:Product {productId: $id}) RETURN p", {
      id: gone!.product_id,
    });
    expect(ghosts).toHaveLength(0);
    const products = await env.chroma.collection("products");
    expect(await products.count()).toBe(report.entities.products.expectedLoaded - 1);
    expect((await products.get({ ids: [gone!.product_id] })).ids).toEqual([]);
  });

  it("reads the shop's tables by updated_at: a changed order line and review are what is read, and both stores follow", async () => {
    const { records: [line] } = await env.neo4j.executeQuery(
      "MATCH (o:Order)-[r:CONTAINS]->() RETURN o.orderId AS orderId, r.lineNo AS lineNo, r.quantity AS quantity LIMIT 1",
    );
    const reviews = await env.chroma.collection("reviews");
    const [reviewId] = (await reviews.get({ limit: 1, include: [] })).ids;
    await env.shop.query(
      "update shop.order_items set quantity = quantity + 1, updated_at = now() where order_id = $1 and line_no = $2",
      [line!.get("orderId"), Number(line!.get("lineNo"))],
    );
    await env.shop.query(
      "update shop.reviews set body = 'Changed my mind: it broke.', updated_at = now() where review_id = $1",
      [reviewId],
    );

    const { run } = await materialize(env.pool, graph, [
      "ec/order_items",
      "graph/CONTAINS",
      "ec/reviews",
      "graph/Review",
      "vectors/reviews",
    ]);
    expect(run.status, run.error ?? "").toBe("succeeded");
    const { rows } = await env.pool.query(
      "select asset_key, counts, metadata from ingest.materializations where run_id = $1 and asset_key like 'ec/%'",
      [run.id],
    );
    for (const [key, entity] of [["ec/order_items", "order_items"], ["ec/reviews", "reviews"]] as const) {
      const m = rows.find((r) => r.asset_key === key);
      expect(m?.metadata, key).toMatchObject({ read: "incremental" });
      // the changed row, and those of the last ten minutes before the previous read's latest (its lag window)
      expect(m?.counts.extracted, key).toBeGreaterThanOrEqual(1);
      expect(m?.counts.extracted, key).toBeLessThan(report.entities[entity].generated / 10);
      expect(m?.counts.written, key).toBe(1);
    }
    const { records: [after] } = await env.neo4j.executeQuery(
      "MATCH (:Order {orderId: $orderId})-[r:CONTAINS {lineNo: $lineNo}]->() RETURN r.quantity AS quantity, r.ingestRunId AS runId",
      { orderId: line!.get("orderId"), lineNo: line!.get("lineNo") },
    );
    expect(Number(after!.get("quantity"))).toBe(Number(line!.get("quantity")) + 1);
    expect(after!.get("runId")).toBe(run.id);
    const { documents, metadatas } = await reviews.get({ ids: [reviewId!], include: ["documents", "metadatas"] });
    expect(documents[0]).toContain("Changed my mind: it broke.");
    expect(metadatas[0]?.run_id).toBe(run.id);
  });

  it("runs the same pipeline under Deno, from the same TypeScript sources (a full refresh rewrites every node)", async () => {
    const deno = join(packageRoot, "node_modules", ".bin", "deno");
    const result = spawnSync(deno, [
      "run",
      "-A",
      "cli/main.ts",
      "--json",
      "materialize",
      "--wait",
      "--full-refresh",
      "graph/Product",
      "graph/IN_CATEGORY",
    ], {
      cwd: packageRoot,
      encoding: "utf8",
      env: { ...process.env, LOG_LEVEL: "warn" },
    });
    expect(result.status, result.stderr).toBe(0);
    const { run } = JSON.parse(result.stdout) as { run: { id: string; status: string } };
    expect(run.status).toBe("succeeded");
    const { records } = await env.neo4j.executeQuery(
      "MATCH (p:Product)-[r:IN_CATEGORY]->() RETURN collect(DISTINCT p.ingestRunId) AS nodes, collect(DISTINCT r.ingestRunId) AS rels",
    );
    expect(records[0]!.get("nodes")).toEqual([run.id]);
    expect(records[0]!.get("rels")).toEqual([run.id]);
  });
});
