export {
  defineWebhookSource,
  type RejectionReason,
  signDelivery,
  type WebhookScheme,
  type WebhookSource,
  webhookSources,
  type WebhookSourceSpec,
} from "./source.ts";
export {
  type DeliveryLag,
  type NewDelivery,
  type RejectionCount,
  type StoredDelivery,
  WebhookDeliveries,
} from "./deliveries.ts";
export {
  serveWebhooks,
  type ServeWebhooksOptions,
  webhookApp,
  type WebhookAppOptions,
  type WebhookServer,
} from "./server.ts";
