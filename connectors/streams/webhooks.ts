import { setTimeout as sleep } from "node:timers/promises";
import { defineResource, type ResourceDefinition, type ResourceKind } from "../../engine/resource.ts";
import { openPool, type pg } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { WebhookDeliveries } from "../webhooks/deliveries.ts";
import type { WebhookSource } from "../webhooks/source.ts";
import type { StreamBatch, StreamSource } from "./stream.ts";

/** What stream assets reading webhook deliveries receive: the deliveries `ingest webhooks` stored. */
export const webhookDeliveriesKind: ResourceKind & { name: "webhookDeliveries" } = {
  kind: "webhook-deliveries",
  name: "webhookDeliveries",
  make: "webhookDeliveriesResource()",
  is: (value) => value instanceof WebhookDeliveries,
};

/**
 * The webhook deliveries table, in the framework's database (`databaseUrl`, else `DATABASE_URL`, else the
 * local stack's): the same database as staging, as a batch marks its deliveries consumed in the staging
 * transaction. A {@link webhookDeliveries} source reads with it as the resource `webhookDeliveries`.
 *
 * @example
 * ```ts
 * resources: { webhookDeliveries: webhookDeliveriesResource() }
 * ```
 */
export function webhookDeliveriesResource(databaseUrl?: string): ResourceDefinition<WebhookDeliveries> {
  // Each setup's pool, ended by the teardown of what it made (a resource may be set up by several pools).
  const pools = new WeakMap<WebhookDeliveries, pg.Pool>();
  return defineResource({
    kind: webhookDeliveriesKind.kind,
    setup: async () => {
      const pool = await openPool(databaseUrl ?? settings().databaseUrl, {
        what: "the webhook deliveries' database",
        source: {
          variable: databaseUrl ? "the URL given to webhookDeliveriesResource" : "DATABASE_URL",
          fromEnvironment: databaseUrl !== undefined || settings().external.postgres,
        },
      });
      const deliveries = new WebhookDeliveries(pool);
      pools.set(deliveries, pool);
      return deliveries;
    },
    teardown: (deliveries) => pools.get(deliveries)?.end(),
  });
}

/** How often a batch waiting for its first delivery looks again. */
const pollMs = 20;

/**
 * A webhook source's deliveries (what `ingest webhooks` stored, each before it answered 2xx) as a stream
 * asset's source: each batch takes the oldest unconsumed ones and marks them consumed in the transaction
 * that stages them. `ingest webhooks` serves the sources the project's stream assets read this way.
 *
 * @example
 * ```ts
 * const chat = defineWebhookSource({ name: "chat", scheme: "zendesk", secrets: () => [envSecret("CHAT_WEBHOOK_SECRET")] });
 * export const liveMessages = defineStreamAsset({ …, stream: webhookDeliveries(chat), … });
 * ```
 */
export function webhookDeliveries(webhook: WebhookSource): StreamSource<{ webhookDeliveries: WebhookDeliveries }> {
  const source = webhook.name;
  return {
    name: `webhooks:${source}`,
    webhook,
    resources: [webhookDeliveriesKind],
    async read({ webhookDeliveries: deliveries }, { max, waitMs }): Promise<StreamBatch> {
      const until = Date.now() + waitMs;
      let batch = await deliveries.unconsumed(source, max);
      while (batch.length === 0 && Date.now() < until) {
        await sleep(pollMs);
        batch = await deliveries.unconsumed(source, max);
      }
      return {
        messages: batch.map((d) => ({
          body: d.body,
          position: `${source}/${d.deliveryId}`,
          timestamp: d.receivedAt.getTime(),
        })),
        commitIn: async (client) => void (await deliveries.markConsumed(client, batch.map((d) => d.id))),
      };
    },
    lag: ({ webhookDeliveries: deliveries }) => deliveries.lag(source),
  };
}
