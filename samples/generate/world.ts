import { coprimeStep, mix32 } from "./random.ts";

/** How many records of each fixed-size entity a scale gives (order items and chat messages vary per order/conversation). */
export interface Sizes {
  categories: number;
  customers: number;
  products: number;
  orders: number;
  reviews: number;
  payments: number;
  shipments: number;
  companies: number;
  contacts: number;
  owners: number;
  deals: number;
  interactions: number;
  agents: number;
  conversations: number;
  /** Web-shop sessions, in the MongoDB catalogue. */
  sessions: number;
}

/** The smallest scale whose arithmetic links (contacts and requesters onto distinct customers) still hold. */
export const minimumScale = 100;

/** The counts of `samples/SOURCES.md` for `scale` orders. */
export function sizesFor(scale: number): Sizes {
  const n = scale;
  const atLeastOne = (value: number) => Math.max(1, Math.floor(value));
  return {
    categories: 40,
    customers: atLeastOne(n / 5),
    products: Math.max(200, Math.floor(n / 50)),
    orders: n,
    reviews: atLeastOne(n / 4),
    payments: n,
    // every order but those with index % 10 === 9 is shipped
    shipments: n - Math.floor(n / 10),
    companies: atLeastOne(n / 100),
    contacts: atLeastOne(n / 20),
    owners: 10 + Math.floor(n / 10_000),
    deals: atLeastOne(n / 50),
    interactions: atLeastOne(n / 10),
    agents: 5 + Math.floor(n / 20_000),
    conversations: atLeastOne(n / 10),
    sessions: atLeastOne(n / 4),
  };
}

/** What every record function needs: the inputs and the sizes they imply. */
export interface World {
  readonly scale: number;
  /** The seed folded to 32 bits: what every record stream starts from. */
  readonly seed: number;
  readonly sizes: Sizes;
  /** Spreads popular products over the catalogue: `(rank * productStep) % products`. */
  readonly productStep: number;
}

export function createWorld(scale: number, seed: number): World {
  if (!Number.isSafeInteger(scale) || scale < minimumScale) {
    throw new RangeError(`scale must be an integer >= ${minimumScale}, got ${scale}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const sizes = sizesFor(scale);
  const high = Math.floor(seed / 4294967296);
  const seed32 = ((seed >>> 0) ^ (high === 0 ? 0 : mix32(high))) >>> 0;
  return { scale, seed: seed32, sizes, productStep: coprimeStep(sizes.products, 7919) };
}
