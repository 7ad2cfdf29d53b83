import { customerOfOrder, ids, isShipped, orderedAt, shipmentOfOrder } from "../links.ts";
import { chance, digits, intBetween, pick, type Random, recordStream, streamTag, weighted } from "../random.ts";
import { DAY, EPOCH, HOUR, MINUTE } from "../time.ts";
import { type Country, eurRates } from "../vocabulary/people.ts";
import type { World } from "../world.ts";
import { customerCountry } from "./customers.ts";
import { product } from "./products.ts";

const ORDER = streamTag("shop.orders");

export interface OrderLine {
  lineNo: number;
  productIndex: number;
  quantity: number;
  unitPrice: number;
  discount: number;
}

export interface Shipment {
  index: number;
  id: string;
  carrier: string;
  trackingNumber: string;
  shippedAt: number;
  /** Undefined while the parcel is on its way. */
  deliveredAt: number | undefined;
}

export type PaymentMethod = "card" | "paypal" | "bank_transfer" | "invoice";
export type OrderStatus = "placed" | "paid" | "shipped" | "delivered" | "cancelled";

export interface Order {
  index: number;
  id: string;
  customerIndex: number;
  country: Country;
  currency: string;
  status: OrderStatus;
  orderedAt: number;
  updatedAt: number;
  total: number;
  lines: OrderLine[];
  payment: { id: string; method: PaymentMethod; paidAt: number | undefined };
  shipment: Shipment | undefined;
}

const carriersByCountry: Record<string, readonly string[]> = {
  DE: ["DHL", "DPD", "Hermes", "GLS"],
  AT: ["Post AG", "DPD", "GLS"],
  CH: ["Swiss Post", "DHL"],
  GB: ["Royal Mail", "DPD", "Evri"],
  FR: ["Colissimo", "Chronopost", "DPD"],
  NL: ["PostNL", "DHL"],
  SE: ["PostNord", "DHL"],
  DK: ["PostNord", "GLS"],
  US: ["UPS", "FedEx", "USPS"],
  ES: ["Correos", "SEUR"],
  IT: ["BRT", "Poste Italiane"],
  PL: ["InPost", "DPD"],
};

function trackingNumber(random: Random, carrier: string, countryCode: string): string {
  switch (carrier) {
    case "UPS":
      return `1Z${digits(random, 3)}E${digits(random, 2)}${digits(random, 10)}`;
    case "Royal Mail":
    case "Colissimo":
    case "Correos":
    case "Swiss Post":
    case "Poste Italiane":
    case "USPS":
      return `${pick(random, ["RR", "CP", "LX", "RB"])}${digits(random, 9)}${countryCode}`;
    case "DHL":
      return `JJD${digits(random, 18)}`;
    case "FedEx":
      return digits(random, 12);
    default:
      return digits(random, 14);
  }
}

const round2 = (value: number) => Math.round(value * 100) / 100;

/** Order `i` with its lines, payment and shipment: everything its four tables hold, from its own stream. */
export function order(world: World, i: number): Order {
  const random = recordStream(world.seed, ORDER, i);
  const customerIndex = customerOfOrder(world, i);
  const country = customerCountry(world, customerIndex);
  const currency = country.currency;
  const rate = eurRates[currency] ?? 1;
  const at = orderedAt(world, i);

  const lineCount = intBetween(random, 1, 5);
  const lines: OrderLine[] = [];
  const used = new Set<number>();
  const products = world.sizes.products;
  for (let lineNo = 1; lineNo <= lineCount; lineNo++) {
    // popular products are bought more: rank skewed towards 0, spread over the catalogue
    let p = (Math.floor(products * random() ** 1.6) * world.productStep) % products;
    while (used.has(p)) p = (p + 1) % products;
    used.add(p);
    const quantity = weighted(random, [[1, 70], [2, 18], [3, 7], [4, 3], [6, 2]] as const);
    const discount = chance(random, 0.7) ? 0 : pick(random, [0.05, 0.1, 0.15, 0.2, 0.25]);
    lines.push({ lineNo, productIndex: p, quantity, unitPrice: round2(product(world, p).priceEur * rate), discount });
  }
  const total = round2(lines.reduce((sum, l) => sum + l.quantity * l.unitPrice * (1 - l.discount), 0));

  const method = weighted(random, [["card", 55], ["paypal", 25], ["bank_transfer", 10], ["invoice", 10]] as const);
  const paymentDelay = method === "card" || method === "paypal"
    ? intBetween(random, 1, 10) * MINUTE
    : method === "bank_transfer"
    ? intBetween(random, 20, 72) * HOUR
    : intBetween(random, 7, 30) * DAY;

  let status: OrderStatus;
  let shipment: Shipment | undefined;
  let paidAt: number | undefined = at + paymentDelay;
  let updatedAt: number;
  if (isShipped(i)) {
    const carrier = pick(random, carriersByCountry[country.code] ?? ["DHL"]);
    const shippedAt = at + Math.floor((0.2 + random() * 2.3) * DAY);
    const deliveredAt = shippedAt + Math.floor((1 + random() * 5) * DAY);
    const delivered = deliveredAt <= EPOCH;
    const s = shipmentOfOrder(i);
    shipment = {
      index: s,
      id: ids.shipment(s),
      carrier,
      trackingNumber: trackingNumber(random, carrier, country.code),
      shippedAt,
      deliveredAt: delivered ? deliveredAt : undefined,
    };
    status = delivered ? "delivered" : "shipped";
    updatedAt = delivered ? deliveredAt : shippedAt;
    // an invoice may be paid after delivery, but never after the epoch
    if (paidAt > EPOCH) paidAt = shippedAt;
    updatedAt = Math.max(updatedAt, paidAt);
  } else if (at > EPOCH - 10 * DAY) {
    status = chance(random, 0.5) || paidAt > EPOCH ? "placed" : "paid";
    if (status === "placed") paidAt = undefined;
    updatedAt = paidAt ?? at;
  } else {
    status = "cancelled";
    updatedAt = Math.min(EPOCH, at + intBetween(random, 1, 48) * HOUR);
    if (paidAt > updatedAt) paidAt = undefined;
  }
  return {
    index: i,
    id: ids.order(i),
    customerIndex,
    country,
    currency,
    status,
    orderedAt: at,
    updatedAt,
    total,
    lines,
    payment: { id: ids.payment(i), method, paidAt },
    shipment,
  };
}
