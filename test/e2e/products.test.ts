import { describe, expect, it } from "vitest";
import definitions from "../../definitions.ts";
import { buildAssetGraph } from "../../engine/definitions.ts";
import { loadEmbedder } from "../../resources/embedder.ts";
import { sampleProducts } from "../../samples/ec-products.ts";
import { materialize } from "../support.ts";
import { useProductSlice } from "./slice.ts";

const graph = buildAssetGraph(definitions);
const slice = useProductSlice();

describe("the product slice: Postgres → graphile-worker → Neo4j and Chroma", () => {
  let runId: string;

  it("materialises every asset of the slice in one run", async () => {
    const { run, steps } = await materialize(slice().pool, graph);
    runId = run.id;
    expect(run.status, run.error ?? "").toBe("succeeded");
    expect(steps.map((s) => [s.asset_key, s.status]).sort()).toEqual([
      ["ec/products", "succeeded"],
      ["graph/Product", "succeeded"],
      ["vectors/products", "succeeded"],
    ]);
  });

  it("writes each product as a Product node, merged on productId, with its lineage", async () => {
    const { records } = await slice().neo4j.executeQuery("MATCH (p:Product) RETURN p ORDER BY p.productId");
    expect(records).toHaveLength(sampleProducts.length);
    const headphones = records[0]!.get("p").properties;
    expect(headphones).toMatchObject({
      productId: "P-1001",
      sku: "AUD-WH-01",
      name: "Aurora Wireless Headphones",
      category: "Audio",
      price: 149,
      currency: "EUR",
      updatedAt: "2026-01-01T00:00:00.000Z",
      ingestRunId: runId,
      ingestAsset: "graph/Product",
      ingestSource: "shop.products",
      ingestSourceKey: "P-1001",
    });
    const { records: constraints } = await slice().neo4j.executeQuery(
      "SHOW CONSTRAINTS YIELD labelsOrTypes, properties, type WHERE 'Product' IN labelsOrTypes RETURN properties, type",
    );
    expect(constraints.map((c) => [c.get("properties"), c.get("type")])).toEqual([[["productId"], "UNIQUENESS"]]);
  });

  it("upserts each product into the products collection with its document and metadata", async () => {
    const collection = await slice().chroma.collection("products");
    expect(await collection.count()).toBe(sampleProducts.length);
    const got = await collection.get({ ids: ["P-1004"], include: ["documents", "metadatas"] });
    expect(got.documents[0]).toBe(
      "Glide Wireless Mouse. Ergonomic cordless mouse with a silent click, USB receiver and adjustable DPI for office work.",
    );
    expect(got.metadatas[0]).toMatchObject({
      product_id: "P-1004",
      category: "Computers",
      price: 24.5,
      currency: "EUR",
      updated_at: Date.parse("2026-01-01T00:00:00Z"),
      run_id: runId,
      source: "shop.products",
    });
  });

  it("finds the headphones first for 'wireless headphones'", async () => {
    const embedder = await loadEmbedder();
    try {
      const [query] = await embedder.embed(["wireless headphones"]);
      const collection = await slice().chroma.collection("products");
      const result = await collection.query({ queryEmbeddings: [query!], nResults: 3 });
      expect(result.ids[0]![0]).toBe("P-1001");
    } finally {
      await embedder.close();
    }
  });

  it("records a materialisation per asset with counts and upstream versions", async () => {
    const rows = await slice().db
      .selectFrom("ingest.materializations")
      .selectAll()
      .where("run_id", "=", runId)
      .orderBy("asset_key")
      .execute();
    expect(rows.map((r) => r.asset_key)).toEqual(["ec/products", "graph/Product", "vectors/products"]);
    const [staged, nodes, vectors] = rows;
    expect(staged!.counts).toMatchObject({ extracted: 12, loaded: 12, written: 12, unchanged: 0 });
    expect(nodes!.counts).toEqual({ loaded: 12 });
    expect(vectors!.counts).toEqual({ loaded: 12, embedded: 12 });
    expect(nodes!.upstream_versions).toEqual({ "ec/products": staged!.data_version });
    expect(vectors!.upstream_versions).toEqual({ "ec/products": staged!.data_version });
    expect(staged!.code_version).toBe("1");
  });

  it("re-stages nothing and keeps the data version when the source did not change", async () => {
    const { run } = await materialize(slice().pool, graph, ["ec/products"]);
    expect(run.status).toBe("succeeded");
    const versions = await slice().db
      .selectFrom("ingest.materializations")
      .select(["run_id", "data_version", "counts"])
      .where("asset_key", "=", "ec/products")
      .where("run_id", "in", [runId, run.id])
      .execute();
    expect(new Set(versions.map((v) => v.data_version)).size).toBe(1);
    expect(versions.find((v) => v.run_id === run.id)!.counts).toMatchObject({ written: 0, unchanged: 12 });
  });
});
