/**
 * The catalogue's product variants, from MongoDB: each `products` document nests its `variants`
 * (colour, size, sku, price, stock), and each variant becomes a record of its own, keyed by its sku.
 */
import type { Db } from "mongodb";
import { z } from "zod";
import { BadRow, isBadRow } from "../../connectors/bad-rows.ts";
import { observeCollection, type PlainDocument, readCollection } from "../../connectors/mongodb/index.ts";
import { defineNodeAsset, defineRelationshipAsset } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset } from "../../connectors/staging/index.ts";
import { field, fromSource } from "../shared/clean.ts";
import { productNodes } from "./catalog.ts";

/**
 * A variant as MongoDB holds it, typed strictly: a price or stock of another BSON type (a string that
 * looks like a number included) is type drift, and the record is dead-lettered rather than coerced.
 */
export const Variant = fromSource(
  z.object({
    sku: field.text,
    productId: field.id,
    colour: field.optionalText,
    size: field.optionalText,
    price: z.number().nonnegative("Must not be negative"),
    stock: z.number().int("Must be a whole number").nonnegative("Must not be negative"),
    updatedAt: field.timestamp,
  }),
  {},
);
export type Variant = z.infer<typeof Variant>;

const source = "MongoDB catalog.products (variants)";

/**
 * A product document's variants, each with its product's id and update time. A product whose `variants`
 * is there but no array (type drift: a count where the list should be) has no variant to read: it is
 * passed on as a bad row, to be dead-lettered as `unparseable`.
 */
export function* variantsOfProduct(product: PlainDocument, position: number): Generator<unknown> {
  const { variants, productId, updatedAt } = product;
  if (variants === null || variants === undefined) return;
  if (!Array.isArray(variants)) {
    const what = `${typeof variants} (${JSON.stringify(variants)})`;
    yield new BadRow(
      source,
      position,
      `product ${productId}: variants is a ${what}, not an array`,
      JSON.stringify(product),
    );
    return;
  }
  for (const variant of variants) yield { ...(variant as object), productId, updatedAt };
}

/** One record per variant of the MongoDB catalogue's products. */
export const stagedVariants = defineStagedAsset<Variant, { catalog: Db }>({
  key: "ec/variants",
  codeVersion: "1",
  table: "ec_variants",
  source,
  model: Variant,
  sourceKey: (v) => v.sku,
  rawKey: (raw) => raw.sku,
  updatedAt: (v) => v.updatedAt,
  resources: ["catalog"],
  observe: ({ resources: { catalog } }) => observeCollection(catalog, "products", { updatedAt: "updatedAt" }),
  async *extract({ resources: { catalog } }) {
    let position = 0;
    for await (const product of readCollection(catalog, "products", { sort: { _id: 1 } })) {
      position += 1;
      if (isBadRow(product)) yield product;
      else yield* variantsOfProduct(product, position);
    }
  },
});

export const variantNodes = defineNodeAsset<Variant>({
  key: "graph/Variant",
  codeVersion: "1",
  label: "Variant",
  keyProperty: "sku",
  indexes: ["productId"],
  from: stagedVariants,
  properties: (v) => ({ ...v }),
});

/** `(:Product)-[:HAS_VARIANT]->(:Variant)`. */
export const hasVariant = defineRelationshipAsset<Variant>({
  key: "graph/HAS_VARIANT",
  codeVersion: "1",
  type: "HAS_VARIANT",
  from: stagedVariants,
  start: { node: productNodes, value: (v) => v.productId },
  end: { node: variantNodes, value: (v) => v.sku },
});
