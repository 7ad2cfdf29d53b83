import { badReasonOf } from "../defects.ts";
import { pick, type Random, recordStream, streamTag } from "../random.ts";
import { isoMillis, messyDate, unparseableDate } from "../time.ts";
import { ids } from "../links.ts";
import { unknownCurrencies } from "../vocabulary/people.ts";
import type { World } from "../world.ts";
import type { Order, OrderLine } from "./orders.ts";

const ROW = streamTag("shop.orders.row");

type Cell = string | number | null;

export const orderColumns = [
  ["order_id", "text"],
  ["customer_id", "text"],
  ["status", "text"],
  ["ordered_at", "text"],
  ["currency", "text"],
  ["total", "numeric"],
  ["updated_at", "timestamptz"],
] as const;
export const orderItemColumns = [
  ["order_id", "text"],
  ["line_no", "int"],
  ["product_id", "text"],
  ["quantity", "int"],
  ["unit_price", "numeric"],
  ["discount", "numeric"],
  ["updated_at", "timestamptz"],
] as const;
export const paymentColumns = [
  ["payment_id", "text"],
  ["order_id", "text"],
  ["method", "text"],
  ["amount", "numeric"],
  ["currency", "text"],
  ["paid_at", "text"],
] as const;
export const shipmentColumns = [
  ["shipment_id", "text"],
  ["order_id", "text"],
  ["carrier", "text"],
  ["tracking_number", "text"],
  ["shipped_at", "text"],
  ["delivered_at", "text"],
  ["updated_at", "timestamptz"],
] as const;

/** The messiness of one order's rows comes from its own stream, drawn in a fixed order. */
export function orderRowStream(world: World, o: Order): Random {
  return recordStream(world.seed, ROW, o.index);
}

export function orderRow(random: Random, o: Order): Cell[] {
  let customerId: string | null = ids.customer(o.customerIndex);
  let orderedAt = messyDate(random, o.orderedAt);
  let currency = o.currency;
  const bad = badReasonOf("orders", o.index);
  if (bad === "unknown_currency") currency = pick(random, unknownCurrencies);
  else if (bad === "unparseable_date") orderedAt = unparseableDate(random);
  else if (bad === "missing_required_field") customerId = null;
  return [o.id, customerId, o.status, orderedAt, currency, o.total.toFixed(2), isoMillis(o.updatedAt)];
}

/** `itemIndex` is the line's position among all order lines (see `defectRules`). */
export function orderItemRow(random: Random, o: Order, line: OrderLine, itemIndex: number): Cell[] {
  let quantity = line.quantity;
  let unitPrice: string | null = line.unitPrice.toFixed(2);
  const bad = badReasonOf("order_items", itemIndex);
  if (bad === "negative_quantity") quantity = -pick(random, [1, 2, 3]);
  else if (bad === "missing_required_field") unitPrice = null;
  return [
    o.id,
    line.lineNo,
    ids.product(line.productIndex),
    quantity,
    unitPrice,
    line.discount.toFixed(2),
    isoMillis(o.updatedAt),
  ];
}

export function paymentRow(random: Random, o: Order): Cell[] {
  let method: string | null = o.payment.method;
  let currency = o.currency;
  let paidAt = o.payment.paidAt === undefined ? null : messyDate(random, o.payment.paidAt);
  const bad = badReasonOf("payments", o.index);
  if (bad === "unknown_currency") currency = pick(random, unknownCurrencies);
  else if (bad === "unparseable_date") paidAt = unparseableDate(random);
  else if (bad === "missing_required_field") method = null;
  return [o.payment.id, o.id, method, o.total.toFixed(2), currency, paidAt];
}

/** A shipment on its way has no delivered_at: null, or an empty string in about a third of rows. */
export function shipmentRow(random: Random, o: Order): Cell[] {
  const s = o.shipment;
  if (!s) throw new Error(`order ${o.id} has no shipment`);
  let orderId: string | null = o.id;
  let shippedAt = messyDate(random, s.shippedAt);
  const deliveredAt = s.deliveredAt === undefined ? (random() < 0.33 ? "" : null) : messyDate(random, s.deliveredAt);
  const bad = badReasonOf("shipments", s.index);
  if (bad === "unparseable_date") shippedAt = unparseableDate(random);
  // The order a shipment belongs to is what the graph needs; a tracking number may be missing.
  else if (bad === "missing_required_field") orderId = null;
  return [s.id, orderId, s.carrier, s.trackingNumber, shippedAt, deliveredAt, isoMillis(o.updatedAt)];
}
