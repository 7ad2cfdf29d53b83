import { badReasonOf } from "../defects.ts";
import { ids, orderOfReview } from "../links.ts";
import { intBetween, pick, recordStream, streamTag, weighted } from "../random.ts";
import { DAY, EPOCH, isoMillis, messyDate, MINUTE, unparseableDate } from "../time.ts";
import { reviewText } from "../vocabulary/reviews.ts";
import type { World } from "../world.ts";
import { order } from "./orders.ts";
import { product } from "./products.ts";

const REVIEW = streamTag("shop.reviews");

export const reviewColumns = [
  ["review_id", "text"],
  ["customer_id", "text"],
  ["product_id", "text"],
  ["rating", "int"],
  ["title", "text"],
  ["body", "text"],
  ["created_at", "text"],
  ["updated_at", "timestamptz"],
] as const;

/** Review `r`: the customer of order `orderOfReview(r)` about that order's first product, some days after delivery. */
export function reviewRow(world: World, r: number): (string | number | null)[] {
  const random = recordStream(world.seed, REVIEW, r);
  const o = order(world, orderOfReview(r));
  const line = o.lines[0];
  if (!line) throw new Error(`order ${o.id} has no lines`);
  const item = product(world, line.productIndex);
  let rating = weighted(random, [[5, 42], [4, 24], [3, 11], [2, 8], [1, 15]] as const) as number;
  const { title, body } = reviewText(random, rating, item.vocabulary, item.noun);
  const arrived = o.shipment?.deliveredAt ?? o.shipment?.shippedAt ?? o.orderedAt;
  const writtenAt = Math.min(
    arrived + intBetween(random, 1, 30) * DAY + intBetween(random, 0, 1439) * MINUTE,
    EPOCH - MINUTE,
  );
  let createdAt = messyDate(random, writtenAt);
  let productId: string | null = item.id;
  const bad = badReasonOf("reviews", r);
  if (bad === "rating_out_of_range") rating = pick(random, [0, 6, 7, 10, -1]);
  else if (bad === "unparseable_date") createdAt = unparseableDate(random);
  else if (bad === "missing_required_field") productId = null;
  return [
    ids.review(r),
    ids.customer(o.customerIndex),
    productId,
    rating,
    title,
    body,
    createdAt,
    isoMillis(writtenAt),
  ];
}
