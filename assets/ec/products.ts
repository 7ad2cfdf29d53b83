import { z } from "zod";
import { defineCollectionAsset, defineNodeAsset, defineStagedAsset } from "../../engine/helpers.ts";
import type { pg } from "../../resources/postgres.ts";

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

/** Extracts the catalogue from the shop database, validates it and stages it by product id. */
export const stagedProducts = defineStagedAsset<Product, { shop: pg.Pool }>({
  key: "ec/products",
  description: "Products from the shop database, validated and staged by product id.",
  codeVersion: "1",
  table: "ec_products",
  source: "shop.products",
  model: Product,
  sourceKey: (p) => p.productId,
  resources: ["shop"],
  async extract({ resources: { shop } }) {
    const { rows } = await shop.query(
      `select product_id as "productId", sku, name, description, category, price, currency, updated_at as "updatedAt"
       from shop.products order by product_id`,
    );
    return rows;
  },
});

/** `(:Product)` nodes, merged on `productId`. */
export const productNodes = defineNodeAsset<Product>({
  key: "graph/Product",
  description: "Product nodes in Neo4j.",
  codeVersion: "1",
  label: "Product",
  keyProperty: "productId",
  from: stagedProducts,
  properties: (p) => ({ ...p }),
});

/** The `products` collection: name and description embedded, with the fields people filter on. */
export const productVectors = defineCollectionAsset<Product>({
  key: "vectors/products",
  description: "Products embedded for semantic search in Chroma.",
  codeVersion: "1",
  collection: "products",
  from: stagedProducts,
  document: (p) => `${p.name}. ${p.description}`,
  metadata: (p) => ({
    product_id: p.productId,
    sku: p.sku,
    category: p.category,
    price: p.price,
    currency: p.currency,
    updated_at: Date.parse(p.updatedAt),
  }),
});
