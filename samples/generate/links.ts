import { badReasonOf } from "./defects.ts";
import { recordStream, streamTag } from "./random.ts";
import { DAY, EPOCH, EXPORT_CUTOFF, HOUR } from "./time.ts";
import type { World } from "./world.ts";

// Source keys and the links between records, all by arithmetic on record indexes: nothing is remembered
// while streaming, and any record can be rebuilt from (world, index) alone.

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** The source key of record `index` (0-based) of each entity; sorting keys of one entity sorts by index. */
export const ids = {
  category: (i: number) => `CAT-${pad(i + 1, 3)}`,
  customer: (k: number) => `C-${pad(k + 1, 7)}`,
  product: (p: number) => `P-${pad(p + 1, 6)}`,
  order: (i: number) => `O-${pad(i + 1, 8)}`,
  review: (r: number) => `R-${pad(r + 1, 7)}`,
  payment: (i: number) => `PAY-${pad(i + 1, 8)}`,
  shipment: (s: number) => `SHP-${pad(s + 1, 8)}`,
  company: (k: number) => String(10_000_001 + k),
  contact: (j: number) => String(20_000_001 + j),
  deal: (d: number) => String(30_000_001 + d),
  owner: (o: number) => String(40_000_001 + o),
  interaction: (x: number) => `INT-${pad(x + 1, 7)}`,
  agent: (a: number) => `AG-${pad(a + 1, 4)}`,
  conversation: (c: number) => `CV-${pad(c + 1, 7)}`,
  message: (c: number, position: number) => `CV-${pad(c + 1, 7)}-M${pad(position + 1, 2)}`,
} as const;

/** The index a source key stands for (the inverse of `ids.*` for single-index keys). */
export function indexOfId(id: string): number {
  const match = /(\d+)$/.exec(id);
  if (!match) throw new Error(`not a generated key: ${id}`);
  const number = Number(match[1]);
  // CRM keys are bare numbers offset per object type (10_000_001 is company 0, 20_000_001 contact 0, ...)
  return /^\d+$/.test(id) ? (number - 1) % 10_000_000 : number - 1;
}

// --- e-commerce -------------------------------------------------------------------------------------------

/**
 * Order `i`'s customer. Orders go round the customers once per `customers` orders, shifted by one each
 * round, so a customer's orders are spread over the whole timeline and land on different residues mod 100
 * (never all bad together).
 */
export function customerOfOrder(world: World, i: number): number {
  const customers = world.sizes.customers;
  return ((i % customers) + Math.floor(i / customers)) % customers;
}

/** The orders of customer `k`, oldest first. */
export function* ordersOfCustomer(world: World, k: number): Generator<number> {
  const { customers, orders } = world.sizes;
  for (let round = 0; round * customers < orders; round++) {
    const i = (((k - round) % customers) + customers) % customers + round * customers;
    if (i < orders) yield i;
  }
}

/** Orders whose index ends in 9 are never shipped (placed, paid or cancelled): 0.9 N shipments. */
export const isShipped = (i: number) => i % 10 !== 9;
export const shipmentOfOrder = (i: number) => Math.floor(i / 10) * 9 + (i % 10);
export const orderOfShipment = (s: number) => Math.floor(s / 9) * 10 + (s % 9);

/** The order a review is about (its customer wrote it, about the order's first product); always a shipped order. */
export function orderOfReview(r: number): number {
  const o = 4 * r + (r % 4);
  return isShipped(o) ? o : o - 1;
}

const ORDER_TIME = streamTag("order.time");
/** Orders span two years, oldest first, ending three days before the epoch (so every shipment has left). */
export const ORDERS_START = EPOCH - 730 * DAY;
const ORDERS_SPAN = 727 * DAY;

export function orderedAt(world: World, i: number): number {
  const jitter = recordStream(world.seed, ORDER_TIME, i)();
  return Math.floor(ORDERS_START + ((i + jitter) / world.sizes.orders) * ORDERS_SPAN);
}

// --- people across systems --------------------------------------------------------------------------------

/** A good customer near `k`: bad customers are every 100th, so the next one is good. */
function goodCustomer(world: World, k: number): number {
  const customers = world.sizes.customers;
  const at = k % customers;
  return badReasonOf("customers", at) === undefined ? at : (at + 1) % customers;
}

/**
 * The customer CRM contact `j` is, for 30 % of contacts (`j % 10 < 3`); distinct contacts get distinct
 * customers (7t < customers for every scale >= the minimum), always good ones.
 */
export function customerOfContact(world: World, j: number): number | undefined {
  if (j % 10 >= 3) return undefined;
  const t = Math.floor(j / 10) * 3 + (j % 10);
  return goodCustomer(world, 7 * t);
}

/** The customer who started conversation `c`, for 40 % of conversations (`c % 5 < 2`); injective like contacts. */
export function customerOfConversation(world: World, c: number): number | undefined {
  if (c % 5 >= 2) return undefined;
  const t = Math.floor(c / 5) * 2 + (c % 5);
  return goodCustomer(world, 3 * t + 1);
}

// --- CRM ----------------------------------------------------------------------------------------------------

export const companyOfContact = (world: World, j: number) => j % world.sizes.companies;
/** Contact `j` is the n-th person at its company: names are drawn so that n differs within a company. */
export const positionAtCompany = (world: World, j: number) => Math.floor(j / world.sizes.companies);
export const companyOfDeal = (world: World, d: number) => d % world.sizes.companies;
export const ownerOfDeal = (world: World, d: number) =>
  (d + Math.floor(d / world.sizes.companies)) % world.sizes.owners;
export const contactOfInteraction = (world: World, x: number) => (x * 7 + 3) % world.sizes.contacts;

/** A deal with the interaction's contact's company, if the company has any. */
export function dealOfInteraction(world: World, x: number): number | undefined {
  const { companies, deals } = world.sizes;
  const company = companyOfContact(world, contactOfInteraction(world, x));
  if (company >= deals) return undefined;
  const dealsOfCompany = Math.floor((deals - 1 - company) / companies) + 1;
  return company + (x % dealsOfCompany) * companies;
}

// --- chat ---------------------------------------------------------------------------------------------------

export const agentOfConversation = (world: World, c: number) => (c * 7 + 1) % world.sizes.agents;

/** The newest 5 % of conversations are still going when the export is taken: their later messages come by webhook. */
export function isOngoing(world: World, c: number): boolean {
  const total = world.sizes.conversations;
  return c >= total - Math.max(1, Math.ceil(total * 0.05));
}

const CONVERSATION_TIME = streamTag("conversation.time");
const CONVERSATIONS_START = EPOCH - 180 * DAY;
const CONVERSATIONS_SPAN = 176 * DAY;

/** When conversation `c` started: finished ones over the last half year, ongoing ones within 20 hours of the export. */
export function conversationStartedAt(world: World, c: number): number {
  const jitter = recordStream(world.seed, CONVERSATION_TIME, c)();
  if (isOngoing(world, c)) return Math.floor(EXPORT_CUTOFF - (1 + jitter * 19) * HOUR);
  const finished = world.sizes.conversations - Math.max(1, Math.ceil(world.sizes.conversations * 0.05));
  return Math.floor(CONVERSATIONS_START + ((c + jitter) / finished) * CONVERSATIONS_SPAN);
}
