import type { Document } from "mongodb";
import { type BadReason, badReasonOf, variantsNotAnArray } from "../defects.ts";
import { chance, intBetween, pick, recordStream, streamTag } from "../random.ts";
import { product } from "../shop/products.ts";
import type { World } from "../world.ts";
import { objectIdOf } from "./ids.ts";

const VARIANTS = streamTag("catalogue.variants");
const PRODUCT_ID = streamTag("catalogue.products._id");

const colours = [
  ["black", "BLK"],
  ["white", "WHT"],
  ["grey", "GRY"],
  ["navy", "NVY"],
  ["red", "RED"],
  ["green", "GRN"],
  ["sand", "SND"],
  ["blue", "BLU"],
] as const;
const sizes = ["XS", "S", "M", "L", "XL"] as const;

/** One variant subdocument of a catalogue product. */
export interface Variant {
  sku?: string;
  colour: string;
  size?: string;
  price: number | string;
  stock: number;
}

/** A catalogue product: the MongoDB document, and why each of its variant records is bad (undefined: good). */
export interface CatalogueProduct {
  document: Document;
  /** One entry per record the variants reader gets from it: a variant, or the product itself when `variants` is no array. */
  records: (BadReason | undefined)[];
  /** How many variants it has: the next product's first variant index is this much further, array or not. */
  variantCount: number;
}

const cents = (value: number) => Math.round(value * 100) / 100;

/** Colours, and for some products sizes: 1–4 variants in all, every one with its own sku, price and stock. */
function variantsOf(world: World, p: number): Variant[] {
  const random = recordStream(world.seed, VARIANTS, p);
  const item = product(world, p);
  const sized = chance(random, 0.35);
  const first = intBetween(random, 0, colours.length - 1);
  const colourCount = sized ? intBetween(random, 1, 2) : intBetween(random, 1, 3);
  const sizeFrom = intBetween(random, 0, 2);
  const sizeList = sized ? sizes.slice(sizeFrom, sizeFrom + intBetween(random, 2, 3)) : [undefined];
  const variants: Variant[] = [];
  for (let c = 0; c < colourCount; c++) {
    const [colour, code] = colours[(first + c * 3) % colours.length]!;
    for (const size of sizeList) {
      variants.push({
        sku: `${item.sku}-${code}${size ? `-${size}` : ""}`,
        colour,
        ...(size ? { size } : {}),
        price: size === "XL" ? cents(item.priceEur * 1.05) : item.priceEur,
        stock: chance(random, 0.1) ? 0 : intBetween(random, 1, 240),
      });
    }
  }
  return variants;
}

/**
 * Catalogue product `p`: the shop's product `p` (same id, sku, name and update time) with its variants
 * nested. `firstVariant` is the index of its first variant among all variants, which the defects go by.
 */
export function catalogueProduct(world: World, p: number, firstVariant: number): CatalogueProduct {
  const item = product(world, p);
  const random = recordStream(world.seed, VARIANTS ^ 1, p);
  const variants = variantsOf(world, p);
  const records: (BadReason | undefined)[] = [];
  let nested: Variant[] | number;
  if (variantsNotAnArray(p)) {
    nested = variants.length;
    records.push("wrong_type");
  } else {
    nested = variants.map((variant, v) => {
      const bad = badReasonOf("variants", firstVariant + v);
      records.push(bad);
      if (bad === "wrong_type") return { ...variant, price: Number(variant.price).toFixed(2) };
      if (bad === "missing_required_field") return { ...variant, sku: undefined };
      return variant;
    }).map(({ sku, ...rest }) => (sku === undefined ? rest : { sku, ...rest }));
  }
  return {
    document: {
      _id: objectIdOf(world.seed, PRODUCT_ID, p, item.updatedAt),
      productId: item.id,
      sku: item.sku,
      name: item.name,
      brand: item.brand,
      tags: [item.noun, ...(chance(random, 0.5) ? [pick(random, ["new", "bestseller", "eco", "sale"])] : [])],
      updatedAt: new Date(item.updatedAt),
      variants: nested,
    },
    records,
    variantCount: variants.length,
  };
}
