import type { Collection } from "chromadb";
import { z } from "zod";
import { defineAsset } from "../../engine/asset.ts";
import type { ChromaResource } from "../../resources/chroma.ts";
import type { Embedder } from "../../resources/embedder.ts";
import { type Driver, ensureUniqueKey, mergeNodes } from "../../resources/neo4j.ts";
import type { pg } from "../../resources/postgres.ts";
import type { Staging } from "../../resources/staging.ts";

/** A product of the e-commerce catalogue, as the shop database holds it. */
export const Product = z.object({
  productId: z.string().min(1),
  sku: z.string().min(1),
  name: z.string().trim().min(1),
  description: z.string().trim().default(""),
  category: z.string().trim().min(1).nullable(),
  price: z.coerce.number().nonnegative().nullable(),
  currency: z.string().length(3).toUpperCase(),
  updatedAt: z.coerce.date().transform((d) => d.toISOString()),
});
export type Product = z.infer<typeof Product>;

const source = "shop.products";

/** Extracts the catalogue from the shop database, validates it and stages it in Postgres. */
export const stagedProducts = defineAsset<{ shop: pg.Pool; staging: Staging }>({
  key: "ec/products",
  group: "ec",
  description: "Products from the shop database, validated and staged by product id.",
  codeVersion: "1",
  resources: ["shop", "staging"],
  async materialize({ resources: { shop, staging }, runId }) {
    const { rows } = await shop.query(
      `select product_id as "productId", sku, name, description, category, price, currency, updated_at as "updatedAt"
       from shop.products order by product_id`,
    );
    const records = rows.map((row) => {
      const record = Product.parse(row);
      return { sourceKey: record.productId, record };
    });
    const staged = await staging.stage("ec_products", records, runId);
    return {
      counts: { extracted: rows.length, loaded: records.length, written: staged.written, unchanged: staged.unchanged },
      dataVersion: await staging.dataVersion("ec_products"),
    };
  },
});

/** `(:Product)` nodes, merged on `productId`, each carrying the run and source record that wrote it. */
export const productNodes = defineAsset<{ neo4j: Driver; staging: Staging }>({
  key: "graph/Product",
  group: "graph",
  deps: ["ec/products"],
  description: "Product nodes in Neo4j.",
  codeVersion: "1",
  resources: ["neo4j", "staging"],
  async materialize({ resources: { neo4j, staging }, runId, assetKey }) {
    await ensureUniqueKey(neo4j, "Product", "productId");
    const staged = await staging.read<Product>("ec_products");
    const rows = staged.map(({ sourceKey, contentHash, record }) => ({
      key: record.productId,
      props: { ...record, ingestRunId: runId, ingestAsset: assetKey, ingestSource: source, ingestSourceKey: sourceKey, ingestContentHash: contentHash },
    }));
    const { written } = await mergeNodes(neo4j, "Product", "productId", rows);
    return { counts: { loaded: written }, dataVersion: await staging.dataVersion("ec_products") };
  },
});

const productDocument = (p: Product) => `${p.name}. ${p.description}`;

/** The `products` collection: name and description embedded, with the fields people filter on. */
export const productVectors = defineAsset<{ chroma: ChromaResource; embedder: Embedder; staging: Staging }>({
  key: "vectors/products",
  group: "vectors",
  deps: ["ec/products"],
  description: "Products embedded for semantic search in Chroma.",
  codeVersion: "1",
  resources: ["chroma", "embedder", "staging"],
  async materialize({ resources: { chroma, embedder, staging }, runId, assetKey }) {
    const staged = await staging.read<Product>("ec_products");
    const collection: Collection = await chroma.collection("products");
    const documents = staged.map(({ record }) => productDocument(record));
    const embeddings = await embedder.embed(documents);
    await chroma.upsert(collection, {
      ids: staged.map((s) => s.sourceKey),
      documents,
      embeddings,
      metadatas: staged.map(({ record, contentHash, sourceKey }) => ({
        product_id: record.productId,
        sku: record.sku,
        category: record.category,
        price: record.price,
        currency: record.currency,
        updated_at: Date.parse(record.updatedAt),
        run_id: runId,
        asset: assetKey,
        source,
        source_key: sourceKey,
        content_hash: contentHash,
      })),
    });
    return { counts: { loaded: staged.length, embedded: embeddings.length }, dataVersion: await staging.dataVersion("ec_products") };
  },
});
