export type { AlertsConfig, DeadLetterThreshold, EmailChannelConfig, WebhookChannelConfig } from "./config.ts";
export { listIncidents } from "./incidents.ts";
export type { Incident } from "./incidents.ts";
export type { AlertMessage } from "./message.ts";
export { verifyWebhookSignature } from "./webhook.ts";
