import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { badReasonOf, type Entity } from "../defects.ts";
import { pick, type Random, recordStream, streamTag } from "../random.ts";
import { type EntityReport, Tally } from "../report.ts";
import { LineFile } from "../sinks/line-file.ts";
import { type Order, order } from "../shop/orders.ts";
import { unparseableDate } from "../time.ts";
import { unknownCurrencies } from "../vocabulary/people.ts";
import type { World } from "../world.ts";

const CHARGE = streamTag("payments.charges");
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `ch_…`, `re_…`: 24 characters from the record's own stream, as Stripe's ids look. */
function stripeId(prefix: string, random: Random): string {
  let id = `${prefix}_`;
  for (let i = 0; i < 24; i++) id += base62[Math.floor(random() * 62)];
  return id;
}

const unix = (ms: number) => Math.floor(ms / 1000);
const minor = (amount: number) => Math.round(amount * 100);

/**
 * Order `i`'s payment as the payment provider's charge: amount in minor units, lower-case currency,
 * `created` in unix seconds, the shop's ids in `metadata`. Unpaid orders have a `pending` charge. Bad
 * payments are bad here too, for the same reason: an unknown currency, a `created` that is no time at all
 * (a malformed record), no `payment_method_details`.
 */
export function chargeOf(world: World, o: Order): Record<string, unknown> {
  const random = recordStream(world.seed, CHARGE, o.index);
  const id = stripeId("ch", random);
  const bad = badReasonOf("payments", o.index);
  const paid = o.payment.paidAt !== undefined || bad === "unparseable_date";
  const amount = minor(o.total);
  const refunded = o.status === "cancelled" && o.payment.paidAt !== undefined;
  return {
    id,
    object: "charge",
    amount,
    amount_captured: paid ? amount : 0,
    amount_refunded: refunded ? amount : 0,
    currency: (bad === "unknown_currency" ? pick(random, unknownCurrencies) : o.currency).toLowerCase(),
    created: bad === "unparseable_date" ? unparseableDate(random) : unix(o.payment.paidAt ?? o.orderedAt),
    paid,
    captured: paid,
    refunded,
    status: paid ? "succeeded" : "pending",
    description: `Order ${o.id}`,
    payment_method_details: bad === "missing_required_field" ? null : { type: o.payment.method },
    metadata: { order_id: o.id, payment_id: o.payment.id },
  };
}

/** The refund of a cancelled order that had been paid: the whole amount, when the order was cancelled. */
function refundOf(world: World, o: Order, charge: Record<string, unknown>): Record<string, unknown> {
  const random = recordStream(world.seed, CHARGE, world.sizes.orders + o.index);
  return {
    id: stripeId("re", random),
    object: "refund",
    amount: charge.amount,
    charge: charge.id,
    currency: o.currency.toLowerCase(),
    created: unix(o.updatedAt),
    reason: "requested_by_customer",
    status: "succeeded",
    metadata: { order_id: o.id },
  };
}

export interface PaymentsOutput {
  reports: Partial<Record<Entity, EntityReport>>;
  files: Record<string, number>;
}

/**
 * `payments/api/charges.jsonl` (a charge for every order's payment: the `payments` entity, which the bundled
 * `ec/payments` reads through the payments API) and `payments/api/refunds.jsonl` (cancelled orders that had
 * been paid), in order index order; the API sorts them newest first. (The shop's tables report the progress
 * of payments.)
 */
export async function writePayments(world: World, outDir: string): Promise<PaymentsOutput> {
  await mkdir(join(outDir, "payments", "api"), { recursive: true });
  const charges = new LineFile(join(outDir, "payments", "api", "charges.jsonl"));
  const refunds = new LineFile(join(outDir, "payments", "api", "refunds.jsonl"));
  const tally = new Tally("payments", "payments/api/charges.jsonl (the payments API's charges)");
  for (let i = 0; i < world.sizes.orders; i++) {
    const o = order(world, i);
    const charge = chargeOf(world, o);
    await charges.write(JSON.stringify(charge));
    tally.record(badReasonOf("payments", i));
    if (charge.refunded === true) await refunds.write(JSON.stringify(refundOf(world, o, charge)));
  }
  await charges.close();
  await refunds.close();
  return {
    reports: { payments: tally.report() },
    files: { "payments/api/charges.jsonl": charges.lines, "payments/api/refunds.jsonl": refunds.lines },
  };
}
