import { defineFileSensor } from "../engine/automation/file-sensor.ts";

/**
 * Webhook deliveries (`chat/webhooks/events-*.jsonl`, see samples/SOURCES.md): each new file
 * refreshes the staged chat messages, which read the whole folder; files stay where they are.
 */
export const chatWebhooks = defineFileSensor({
  name: "chat_webhooks",
  folder: "chat/webhooks",
  files: [{ glob: "*.jsonl", select: "chat/messages" }],
  complete: { quietMs: 1_000 },
});

/** The chat system's exports: agents, and conversations (which carry their messages). */
export const chatExports = defineFileSensor({
  name: "chat_exports",
  folder: "chat/export",
  files: [
    { glob: "agents.jsonl", select: "chat/agents" },
    { glob: "conversations.jsonl", select: "chat/sessions chat/messages" },
  ],
  complete: { quietMs: 2_000 },
});

/** The CRM's file exports: interactions as CSV, the sales reps' roster as Excel. */
export const crmExports = defineFileSensor({
  name: "crm_exports",
  folder: "crm/exports",
  files: [
    { glob: "interactions.csv", select: "crm/interactions" },
    { glob: "sales-reps.xlsx", select: "crm/sales_reps" },
  ],
  complete: { quietMs: 2_000 },
});

/** The shipping provider's tracking feed: each new file refreshes the tracking events, which read the whole folder. */
export const shippingFeed = defineFileSensor({
  name: "shipping_feed",
  folder: "shipping/tracking",
  files: [{ glob: "*.xml.gz", select: "ec/tracking_events" }, {
    glob: "*.xml",
    select: "ec/tracking_events",
  }],
  complete: { quietMs: 2_000 },
});

/** The analytics platform's exports: orders, a Parquet file a month, and the campaigns, gzip'd JSON. */
export const analyticsExports = defineFileSensor({
  name: "analytics_exports",
  folder: "analytics",
  files: [
    { glob: "orders-*.parquet", select: "ec/order_analytics" },
    { glob: "campaigns.json.gz", select: "ec/campaigns" },
  ],
  complete: { quietMs: 2_000 },
});
