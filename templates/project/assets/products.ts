import { fileURLToPath } from "node:url";
import { defineCollectionAsset, defineNodeAsset, defineStagedAsset, readCsv } from "ingest-graph";
import { z } from "zod";

/** Where the example's CSV lies: `data/products.csv` in this project. Point it at your own export. */
export const productsFile = fileURLToPath(new URL("../data/products.csv", import.meta.url));

/** One product as the CSV has it, validated and typed: a row that does not fit is dead-lettered with its reasons. */
export const Product = z.object({
  sku: z.string().regex(/^P-\d+$/),
  name: z.string().min(1),
  category: z.string().min(1),
  price: z.coerce.number().positive(),
  description: z.string(),
});
export type Product = z.infer<typeof Product>;

/**
 * The source asset: every row of the CSV, validated and staged by SKU with a content hash, so the
 * assets below only see what changed since their last run.
 */
export const stagedProducts = defineStagedAsset({
  key: "shop/products",
  codeVersion: "1",
  table: "shop_products",
  source: "data/products.csv",
  model: Product,
  sourceKey: (p) => p.sku,
  rawKey: (row) => row.sku,
  extract: () => readCsv(productsFile),
});

/** A `(:Product {sku})` node per staged product, MERGEd on a uniqueness constraint. */
export const productNodes = defineNodeAsset({
  key: "graph/Product",
  codeVersion: "1",
  label: "Product",
  keyProperty: "sku",
  indexes: ["category"],
  from: stagedProducts,
  properties: (p) => ({ sku: p.sku, name: p.name, category: p.category, price: p.price }),
});

/** The products' descriptions, embedded into the Chroma collection `products` for semantic search. */
export const productDocuments = defineCollectionAsset({
  key: "search/products",
  codeVersion: "1",
  collection: "products",
  from: stagedProducts,
  document: (p) => `${p.name}. ${p.description}`,
  metadata: (p) => ({ sku: p.sku, category: p.category, price: p.price }),
});
