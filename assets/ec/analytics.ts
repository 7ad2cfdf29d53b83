import { join } from "node:path";
import { z } from "zod";
import { filesIn } from "../../connectors/file-input.ts";
import { defineNodeAsset, defineRelationshipAsset } from "../../connectors/neo4j/index.ts";
import { readParquet } from "../../connectors/parquet/index.ts";
import { defineStagedAsset } from "../../connectors/staging/index.ts";
import { sourcesDir } from "../../resources/settings.ts";
import { field, fromSource } from "../shared/clean.ts";
import { orderNodes } from "./orders.ts";

export const salesChannels = ["web", "app", "marketplace", "phone"] as const;

/**
 * An order as the analytics platform's export has it (`analytics/orders-YYYY-MM.parquet`, see
 * samples/SOURCES.md): how it was attributed (channel, device, campaign), its basket size, and its
 * revenue in its own currency and in EUR, with the margin in EUR. Not the order itself: that is the shop's.
 */
export const OrderAnalytics = fromSource(
  z.object({
    orderId: field.id,
    customerId: field.id,
    orderedAt: field.timestamp,
    channel: field.oneOf(salesChannels),
    device: field.optionalText,
    campaign: field.optionalText,
    items: field.number(z.number().int("Must be a whole number").nonnegative("Must not be negative")),
    revenue: field.amount,
    currency: field.currency,
    revenueEur: field.amount,
    marginEur: field.number(),
  }),
  {
    orderId: ["order_id"],
    customerId: ["customer_id"],
    orderedAt: ["ordered_at"],
    revenueEur: ["revenue_eur"],
    marginEur: ["margin_eur"],
  },
);
export type OrderAnalytics = z.infer<typeof OrderAnalytics>;

/** The export's monthly files, oldest first. */
const exportFiles = () => filesIn(join(sourcesDir, "analytics"), /\.parquet$/);

/**
 * Order analytics from the monthly Parquet export, a row group at a time. A file that cannot be read
 * (truncated by an interrupted copy) is dead-lettered whole, as one `unparseable` record naming it.
 */
export const stagedOrderAnalytics = defineStagedAsset<OrderAnalytics>({
  key: "ec/order_analytics",
  codeVersion: "1",
  table: "ec_order_analytics",
  source: "analytics/orders-*.parquet",
  model: OrderAnalytics,
  sourceKey: (a) => a.orderId,
  rawKey: (row) => row.order_id,
  async *extract() {
    for (const file of exportFiles()) yield* readParquet(file);
  },
});

/** `(:OrderAnalytics)`: one per order the export has, beside the shop's `(:Order)`, keyed by the same id. */
export const orderAnalyticsNodes = defineNodeAsset<OrderAnalytics>({
  key: "graph/OrderAnalytics",
  codeVersion: "1",
  label: "OrderAnalytics",
  keyProperty: "orderId",
  indexes: ["channel", "campaign"],
  from: stagedOrderAnalytics,
  properties: (a) => ({ ...a }),
  integers: ["items"],
});

/** `(:Order)-[:HAS_ANALYTICS]->(:OrderAnalytics)`. */
export const hasAnalytics = defineRelationshipAsset<OrderAnalytics>({
  key: "graph/HAS_ANALYTICS",
  codeVersion: "1",
  type: "HAS_ANALYTICS",
  from: stagedOrderAnalytics,
  start: { node: orderNodes, value: (a) => a.orderId },
  end: { node: orderAnalyticsNodes, value: (a) => a.orderId },
});
