import { defineCollectionAsset } from "../../connectors/chroma/index.ts";
import { defineNodeAsset, defineRelationshipAsset } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset } from "../../connectors/staging/index.ts";
import { productNodes } from "./catalog.ts";
import { customerNodes } from "./customers.ts";
import { Review, reviewKey } from "./models.ts";
import { type Shop, shopTable } from "./shop.ts";

export const stagedReviews = defineStagedAsset<Review, Shop>({
  key: "ec/reviews",
  codeVersion: "2",
  table: "ec_reviews",
  source: "shop.reviews",
  model: Review,
  sourceKey: reviewKey,
  rawKey: (row) => row.review_id,
  updatedAt: (r) => r.updatedAt,
  ...shopTable<Review>("reviews", "review_id"),
});

export const reviewNodes = defineNodeAsset<Review>({
  key: "graph/Review",
  codeVersion: "2",
  label: "Review",
  keyProperty: "reviewId",
  indexes: ["rating"],
  integers: ["rating"],
  from: stagedReviews,
  properties: (r) => ({ ...r }),
});

/** `(:Customer)-[:WROTE]->(:Review)`. */
export const wrote = defineRelationshipAsset<Review>({
  key: "graph/WROTE",
  codeVersion: "1",
  type: "WROTE",
  from: stagedReviews,
  start: { node: customerNodes, value: (r) => r.customerId },
  end: { node: reviewNodes, value: (r) => r.reviewId },
});

/** `(:Review)-[:REVIEWS]->(:Product)`. */
export const reviews = defineRelationshipAsset<Review>({
  key: "graph/REVIEWS",
  codeVersion: "1",
  type: "REVIEWS",
  from: stagedReviews,
  start: { node: reviewNodes, value: (r) => r.reviewId },
  end: { node: productNodes, value: (r) => r.productId },
});

/** The `reviews` collection: title and text, filterable by rating, product and customer. */
export const reviewVectors = defineCollectionAsset<Review>({
  key: "vectors/reviews",
  codeVersion: "1",
  collection: "reviews",
  from: stagedReviews,
  document: (r) => [r.title, r.body].filter(Boolean).join(". "),
  metadata: (r) => ({
    review_id: r.reviewId,
    product_id: r.productId,
    customer_id: r.customerId,
    rating: r.rating,
    created_at: Date.parse(r.createdAt),
  }),
});
