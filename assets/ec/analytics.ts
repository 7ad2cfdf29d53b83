import { join } from "node:path";
import { z } from "zod";
import { filesIn, observeFiles } from "../../connectors/file-input.ts";
import { defineNodeAsset, defineRelationshipAsset } from "../../connectors/neo4j/index.ts";
import { readJson } from "../../connectors/json/index.ts";
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
  observe: () => observeFiles(exportFiles()),
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

export const campaignChannels = ["search", "social", "affiliate", "email"] as const;

/**
 * A marketing campaign from the analytics platform's `analytics/campaigns.json.gz` (one JSON document, the
 * campaigns nested in it): its budget, and its spend summed over the days it ran (`daily_spend`).
 */
export const Campaign = fromSource(
  z.object({
    campaignId: field.id,
    name: field.text,
    channel: field.oneOf(campaignChannels),
    startsAt: field.timestamp,
    endsAt: field.optionalTimestamp,
    budget: field.amount,
    currency: field.currency,
    dailySpend: z.array(z.object({ date: z.string(), eur: z.number().nonnegative("Must not be negative") })),
  }),
  {
    campaignId: ["id"],
    startsAt: ["starts_at"],
    endsAt: ["ends_at"],
    budget: ["budget.amount"],
    currency: ["budget.currency"],
    dailySpend: ["daily_spend"],
  },
).transform(({ dailySpend, ...campaign }) => ({
  ...campaign,
  days: dailySpend.length,
  spendEur: Math.round(dailySpend.reduce((sum, day) => sum + day.eur, 0) * 100) / 100,
}));
export type Campaign = z.infer<typeof Campaign>;

const campaignFiles = () => filesIn(join(sourcesDir, "analytics"), /^campaigns\.json(\.gz)?$/);

/** Campaigns, streamed out of the gzip'd JSON document one at a time (`$.campaigns.*`). */
export const stagedCampaigns = defineStagedAsset<Campaign>({
  key: "ec/campaigns",
  codeVersion: "1",
  table: "ec_campaigns",
  source: "analytics/campaigns.json.gz",
  model: Campaign,
  sourceKey: (c) => c.campaignId,
  rawKey: (raw) => raw.id,
  observe: () => observeFiles(campaignFiles()),
  async *extract() {
    for (const file of campaignFiles()) {
      yield* readJson(file, { path: "$.campaigns.*" });
    }
  },
});

export const campaignNodes = defineNodeAsset<Campaign>({
  key: "graph/Campaign",
  codeVersion: "1",
  label: "Campaign",
  keyProperty: "campaignId",
  from: stagedCampaigns,
  properties: (c) => ({ ...c }),
  integers: ["days"],
});

/** `(:OrderAnalytics)-[:ATTRIBUTED_TO]->(:Campaign)`, for the orders the export attributes to a campaign. */
export const attributedTo = defineRelationshipAsset<OrderAnalytics>({
  key: "graph/ATTRIBUTED_TO",
  codeVersion: "1",
  type: "ATTRIBUTED_TO",
  from: stagedOrderAnalytics,
  where: (a) => a.campaign !== null,
  start: { node: orderAnalyticsNodes, value: (a) => a.orderId },
  end: { node: campaignNodes, value: (a) => a.campaign },
});
