/**
 * The e-commerce entities, as the shop database (`shop.*`, see samples/SOURCES.md) holds them.
 * Each model parses a source row (snake_case columns) into our camelCase record; each `…Key`
 * gives the record's source key, for staging and deduplication.
 */
import { z } from "zod";
import { cleanOrIssue, field, fromSource, stripHtml, toE164 } from "../shared/clean.ts";

/** A product category; roots have `parentId: null`. */
export const Category = fromSource(
  z.object({
    categoryId: field.id,
    name: field.text,
    parentId: field.optionalId,
    updatedAt: field.timestamp,
  }),
  { categoryId: ["category_id"], parentId: ["parent_id"], updatedAt: ["updated_at"] },
);
export type Category = z.infer<typeof Category>;
export const categoryKey = (c: Category): string => c.categoryId;

/**
 * A shop customer. `phone` becomes E.164, a national number read in the customer's `country`;
 * a phone that is not a valid number makes the record invalid (issue on `phone`).
 */
export const Customer = fromSource(
  z.object({
    customerId: field.id,
    email: field.email,
    firstName: field.optionalText,
    lastName: field.optionalText,
    phone: field.optionalText,
    country: field.country,
    createdAt: field.timestamp,
    updatedAt: field.timestamp,
  }),
  {
    customerId: ["customer_id"],
    firstName: ["first_name"],
    lastName: ["last_name"],
    createdAt: ["created_at"],
    updatedAt: ["updated_at"],
  },
).transform((customer, ctx) => ({
  ...customer,
  phone: cleanOrIssue(ctx, customer.phone, () => toE164(customer.phone, customer.country ?? undefined), ["phone"]) ??
    null,
}));
export type Customer = z.infer<typeof Customer>;
export const customerKey = (c: Customer): string => c.customerId;

/** A catalogue product; `description` is the source HTML as plain text (`null` when empty). */
export const Product = fromSource(
  z.object({
    productId: field.id,
    sku: field.text,
    name: field.text,
    description: field.optionalText.transform((html) => (html === null ? null : stripHtml(html) || null)),
    categoryId: field.id,
    price: field.amount,
    currency: field.currency,
    updatedAt: field.timestamp,
  }),
  { productId: ["product_id"], categoryId: ["category_id"], updatedAt: ["updated_at"] },
);
export type Product = z.infer<typeof Product>;
export const productKey = (p: Product): string => p.productId;

export const orderStatuses = ["placed", "paid", "shipped", "delivered", "cancelled"] as const;

/** An order; `total` is in `currency`. */
export const Order = fromSource(
  z.object({
    orderId: field.id,
    customerId: field.id,
    status: field.oneOf(orderStatuses),
    orderedAt: field.timestamp,
    currency: field.currency,
    total: field.amount,
    updatedAt: field.timestamp,
  }),
  { orderId: ["order_id"], customerId: ["customer_id"], orderedAt: ["ordered_at"], updatedAt: ["updated_at"] },
);
export type Order = z.infer<typeof Order>;
export const orderKey = (o: Order): string => o.orderId;

const fraction = "Must be a fraction between 0 and 1";

/** An order line: the `(:Order)-[:CONTAINS]->(:Product)` link. A missing discount is 0. */
export const OrderItem = fromSource(
  z.object({
    orderId: field.id,
    lineNo: field.number(z.number().int("Must be a whole number").min(1, "Must be at least 1")),
    productId: field.id,
    quantity: field.number(z.number().int("Must be a whole number").positive("Must be positive")),
    unitPrice: field.amount,
    discount: field.optionalNumber
      .pipe(z.number().min(0, fraction).max(1, fraction).nullable())
      .transform((d) => d ?? 0),
    updatedAt: field.timestamp,
  }),
  {
    orderId: ["order_id"],
    lineNo: ["line_no"],
    productId: ["product_id"],
    unitPrice: ["unit_price"],
    updatedAt: ["updated_at"],
  },
);
export type OrderItem = z.infer<typeof OrderItem>;
/** `O-1:2`: the order and the line number. */
export const orderItemKey = (i: OrderItem): string => `${i.orderId}:${i.lineNo}`;

const between1And5 = "Number must be between 1 and 5";

/** A product review by a customer. */
export const Review = fromSource(
  z.object({
    reviewId: field.id,
    customerId: field.id,
    productId: field.id,
    rating: field.number(z.number().int("Must be a whole number").min(1, between1And5).max(5, between1And5)),
    title: field.optionalText,
    body: field.optionalText,
    createdAt: field.timestamp,
    updatedAt: field.timestamp,
  }),
  {
    reviewId: ["review_id"],
    customerId: ["customer_id"],
    productId: ["product_id"],
    createdAt: ["created_at"],
    updatedAt: ["updated_at"],
  },
);
export type Review = z.infer<typeof Review>;
export const reviewKey = (r: Review): string => r.reviewId;

export const paymentMethods = ["card", "paypal", "bank_transfer", "invoice"] as const;

/** A payment of an order; `paidAt` is `null` while unpaid. */
export const Payment = fromSource(
  z.object({
    paymentId: field.id,
    orderId: field.id,
    method: field.oneOf(paymentMethods),
    amount: field.amount,
    currency: field.currency,
    paidAt: field.optionalTimestamp,
  }),
  { paymentId: ["payment_id"], orderId: ["order_id"], paidAt: ["paid_at"] },
);
export type Payment = z.infer<typeof Payment>;
export const paymentKey = (p: Payment): string => p.paymentId;

/** A shipment of an order; `deliveredAt` is `null` until delivered. */
export const Shipment = fromSource(
  z.object({
    shipmentId: field.id,
    orderId: field.id,
    carrier: field.optionalText,
    trackingNumber: field.optionalText,
    shippedAt: field.timestamp,
    deliveredAt: field.optionalTimestamp,
    updatedAt: field.timestamp,
  }),
  {
    shipmentId: ["shipment_id"],
    orderId: ["order_id"],
    trackingNumber: ["tracking_number"],
    shippedAt: ["shipped_at"],
    deliveredAt: ["delivered_at"],
    updatedAt: ["updated_at"],
  },
);
export type Shipment = z.infer<typeof Shipment>;
export const shipmentKey = (s: Shipment): string => s.shipmentId;

/**
 * A product node of the shop's GraphQL Admin API (Shopify-shaped: `legacyResourceId`, `title`,
 * `descriptionHtml`, `category { id }`, `price`, `currencyCode`, `updatedAt`) as the shop row
 * {@link Product} reads. Anything else (a bad row with the GraphQL error of its price) is passed on as it is.
 */
export function productOfShopify(node: unknown): unknown {
  if (typeof node !== "object" || node === null || !("legacyResourceId" in node)) return node;
  const p = node as Record<string, unknown> & { category?: { id?: unknown } | null };
  return {
    product_id: p.legacyResourceId,
    sku: p.sku,
    name: p.title,
    description: p.descriptionHtml,
    category_id: p.category?.id ?? null,
    price: p.price,
    currency: p.currencyCode,
    updated_at: p.updatedAt,
  };
}

/**
 * A charge of the payment provider's API (Stripe-shaped: `amount` in minor units, lower-case `currency`,
 * `created` in unix seconds, the shop's ids in `metadata`) as the shop row {@link Payment} reads. An unpaid
 * (`pending`) charge has no `paid_at`; a `created` that is not a number is passed on for the model to refuse.
 */
export function paymentOfCharge(charge: unknown): unknown {
  if (typeof charge !== "object" || charge === null) return charge;
  const c = charge as Record<string, unknown> & {
    metadata?: { order_id?: unknown; payment_id?: unknown };
    payment_method_details?: { type?: unknown } | null;
  };
  return {
    payment_id: c.metadata?.payment_id,
    order_id: c.metadata?.order_id,
    method: c.payment_method_details?.type ?? null,
    amount: typeof c.amount === "number" ? c.amount / 100 : c.amount,
    currency: typeof c.currency === "string" ? c.currency.toUpperCase() : c.currency,
    // seconds past what a Date holds stay a number, for the model to refuse (toISOString would throw)
    paid_at: c.paid === false
      ? null
      : typeof c.created === "number" && Math.abs(c.created) <= 8.64e12
      ? new Date(c.created * 1000).toISOString()
      : c.created,
  };
}
