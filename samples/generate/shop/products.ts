import { badReasonOf } from "../defects.ts";
import { ids } from "../links.ts";
import { chance, intBetween, pick, pickTwo, recordStream, streamTag, weighted } from "../random.ts";
import { DAY, EPOCH, isoMillis } from "../time.ts";
import { brands, leaves, series } from "../vocabulary/categories.ts";
import type { LeafVocabulary } from "../vocabulary/leaf.ts";
import { unknownCurrencies } from "../vocabulary/people.ts";
import type { World } from "../world.ts";

const PRODUCT = streamTag("shop.products");
const DESCRIPTION = streamTag("shop.products.description");
const ROW = streamTag("shop.products.row");

export interface Product {
  index: number;
  id: string;
  sku: string;
  name: string;
  brand: string;
  noun: string;
  categoryIndex: number;
  vocabulary: LeafVocabulary;
  priceEur: number;
  updatedAt: number;
}

function roundPrice(value: number): number {
  if (value < 20) return Math.floor(value) + 0.99;
  if (value < 200) return Math.round(value) - 0.01;
  return Math.round(value / 10) * 10 - 1;
}

export function product(world: World, p: number): Product {
  const random = recordStream(world.seed, PRODUCT, p);
  const leaf = pick(random, leaves);
  const vocabulary = leaf.vocabulary;
  const brand = pick(random, brands);
  const noun = pick(random, vocabulary.nouns);
  const name = vocabulary.titles
    ? `${pick(random, vocabulary.titles.first)} ${pick(random, vocabulary.titles.second)} (${noun})`
    : chance(random, 0.6)
    ? `${brand} ${pick(random, series)} ${noun}`
    : `${brand} ${noun}`;
  const [min, max] = vocabulary.price;
  const priceEur = roundPrice(min * (max / min) ** (random() ** 1.4));
  const brandCode = brand.replace(/[^A-Za-z]/g, "").slice(0, 3).toUpperCase();
  const sku = `${vocabulary.code}-${brandCode}-${(p + 1).toString(36).toUpperCase().padStart(5, "0")}`;
  const updatedAt = EPOCH - intBetween(random, 1, 400) * DAY + Math.floor(random() * DAY);
  return {
    index: p,
    id: ids.product(p),
    sku,
    name,
    brand,
    noun,
    categoryIndex: leaf.index,
    vocabulary,
    priceEur,
    updatedAt,
  };
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const openers = [
  (name: string, a: string, b: string) => `With the ${name} you get ${a} and ${b}.`,
  (name: string, a: string, b: string) => `Meet the ${name}, with ${a} and ${b}.`,
  (name: string, a: string, b: string) => `The ${name}: ${a} and ${b} in one.`,
  (name: string, a: string, b: string) => `${capitalise(a)} and ${b} come standard on the ${name}.`,
];
const escapeHtml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Two to four sentences of HTML from the category's features and uses. */
export function productDescription(world: World, item: Product): string {
  const random = recordStream(world.seed, DESCRIPTION, item.index);
  const v = item.vocabulary;
  const [f1, f2] = pickTwo(random, v.features);
  const [u1, u2] = pickTwo(random, v.uses);
  const listed = v.features.filter(() => chance(random, 0.45)).slice(0, 4);
  const sentences = [
    pick(random, openers)(`<strong>${escapeHtml(item.name)}</strong>`, escapeHtml(f1), escapeHtml(f2)),
    `Made for ${escapeHtml(u1)}, and just as good for ${escapeHtml(u2)}.`,
  ];
  if (chance(random, 0.6)) sentences.push(`${escapeHtml(capitalise(pick(random, v.praise)))}, say our customers.`);
  if (chance(random, 0.5)) {
    sentences.push(
      `${item.vocabulary.titles ? "Published" : `Backed by ${item.brand}`} with a ${intBetween(random, 2, 3)}-year ${
        item.vocabulary.titles ? "returns promise" : "warranty"
      }.`,
    );
  }
  const list = listed.length ? `<ul>${listed.map((f) => `<li>${escapeHtml(capitalise(f))}</li>`).join("")}</ul>` : "";
  return `<p>${sentences.slice(0, 2).join(" ")}</p>${list}${
    sentences.length > 2 ? `<p>${sentences.slice(2).join(" ")}</p>` : ""
  }`;
}

export const productColumns = [
  ["product_id", "text"],
  ["sku", "text"],
  ["name", "text"],
  ["description", "text"],
  ["category_id", "text"],
  ["price", "text"],
  ["currency", "text"],
  ["updated_at", "timestamptz"],
] as const;

const nonNumericPrices = ["N/A", "TBD", "on request", "call us", "—"];

/** Price as text: `149.00`, sometimes with spaces around it (` 149.00 `). */
function priceText(random: () => number, price: number): string {
  const plain = price.toFixed(2);
  return weighted(random, [[plain, 85], [` ${plain} `, 8], [`${plain} `, 7]] as const);
}

export function productRow(world: World, p: number): (string | null)[] {
  const item = product(world, p);
  const random = recordStream(world.seed, ROW, p);
  let name: string | null = item.name;
  let price = priceText(random, item.priceEur);
  let currency = "EUR";
  const bad = badReasonOf("products", p);
  if (bad === "non_numeric_price") price = pick(random, nonNumericPrices);
  else if (bad === "unknown_currency") currency = pick(random, unknownCurrencies);
  else if (bad === "missing_required_field") name = null;
  return [
    item.id,
    item.sku,
    name,
    productDescription(world, item),
    ids.category(item.categoryIndex),
    price,
    currency,
    isoMillis(item.updatedAt),
  ];
}
