import { z } from "zod";
import { ChatMessage, chatMessageKey, messageOfWebhookEvent } from "../assets/chat/models.ts";
import { foldOrderStatus, OrderEvent, type OrderStatus } from "../assets/ec/order-events.ts";
import { webhookDeliveries, webhookDeliveriesResource } from "../connectors/streams/webhooks.ts";
import type { WebhookDeliveries } from "../connectors/webhooks/deliveries.ts";
import { defineWebhookSource } from "../connectors/webhooks/source.ts";
import { connectNeo4j, defineNodeAsset, type Driver, runInBatches } from "../connectors/neo4j/index.ts";
import { Staging } from "../connectors/staging/index.ts";
import { defineStreamAsset, type KafkaClient, kafkaTopic, openKafka } from "../connectors/streams/index.ts";
import { defineStreamSensor } from "../engine/automation/stream-sensor.ts";
import { defineDefinitions, type Definitions } from "../engine/definitions.ts";
import { defineResource } from "../engine/resource.ts";
import { createPool } from "../resources/postgres.ts";
import { settings } from "../resources/settings.ts";

/**
 * A project of its own around one Kafka topic of order events: the stream asset `<prefix>/order_events`
 * (staging table `<prefix>_order_events`), the node asset `<prefix>/OrderStatus` (label
 * `StreamOrder_<prefix>`) and a stream sensor keeping it consumed. Tests build it in their process, and
 * worker and daemon processes load it from a definitions module (see {@link writeStreamDefinitions}).
 */
export function orderStreamDefinitions(
  prefix: string,
  topic: string,
  options: {
    brokers?: string[];
    maxMessages?: number;
    backlogMessages?: number;
    /** An event id whose fold throws: every batch holding it fails (a bug in the fold, say). */
    poison?: string;
  } = {},
): Definitions {
  const events = defineStreamAsset<OrderEvent, OrderStatus, { kafka: KafkaClient }>({
    key: `${prefix}/order_events`,
    codeVersion: "1",
    table: `${prefix}_order_events`,
    stream: kafkaTopic({ topic }),
    model: OrderEvent,
    eventId: (e) => e.eventId,
    sourceKey: (e) => e.orderId,
    rawKey: (raw) => raw.orderId,
    fold: (state, event) => {
      if (event.eventId === options.poison) throw new Error(`the fold cannot apply ${event.eventId}`);
      return foldOrderStatus(state, event);
    },
    // Batches of one size, backlog or not, unless told: the tests cut a stream into many batches on purpose.
    batch: {
      maxMessages: options.maxMessages ?? 5_000,
      backlogMessages: options.backlogMessages ?? options.maxMessages ?? 5_000,
      maxWaitMs: 50,
    },
  });
  const nodes = defineNodeAsset<OrderStatus>({
    key: `${prefix}/OrderStatus`,
    codeVersion: "1",
    label: `StreamOrder_${prefix}`,
    keyProperty: "orderId",
    from: events,
    properties: ({ eventIds: _, ...status }) => status,
  });
  return defineDefinitions({
    assets: [events, nodes],
    sensors: [defineStreamSensor({ name: `${prefix}_stream`, streams: events.key, intervalMs: 100 })],
    resources: {
      staging: defineResource({
        setup: () => new Staging(createPool(settings().databaseUrl)),
        teardown: (s) => s.close(),
      }),
      kafka: defineResource({ setup: () => openKafka(options.brokers), teardown: (k) => k.close() }),
      neo4j: defineResource({ setup: () => connectNeo4j(), teardown: (d) => d.close() }),
    },
  });
}

/** A seeded generator, so a failure can be replayed. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** The lifecycle events of `n` orders (some only placed or paid), in time order. */
export function orderLifecycles(n: number, rand: () => number, first = 0): OrderEvent[] {
  const events: OrderEvent[] = [];
  const t0 = Date.parse("2026-11-01T00:00:00Z");
  for (let i = first; i < first + n; i++) {
    const orderId = `o${String(i).padStart(6, "0")}`;
    const at = (minutes: number) => new Date(t0 + i * 60_000 + minutes * 60_000).toISOString();
    events.push({
      eventId: `${orderId}-placed`,
      type: "order.placed",
      orderId,
      occurredAt: at(0),
      customerId: `c${i % 17}`,
      total: 10 + (i % 50),
      currency: "EUR",
    });
    const stage = rand();
    if (stage > 0.2) {
      events.push({ eventId: `${orderId}-paid`, type: "order.paid", orderId, occurredAt: at(5), paymentId: `p${i}` });
    }
    if (stage > 0.5) {
      events.push({
        eventId: `${orderId}-shipped`,
        type: "order.shipped",
        orderId,
        occurredAt: at(60),
        carrier: "DHL",
        trackingNumber: `T${i}`,
      });
    }
  }
  return events;
}

/** The messages a real producer sends: shuffled (out of order), about 5% twice, and the `malformed` ones among them. */
export function asSent(events: OrderEvent[], rand: () => number, malformed: string[] = []): string[] {
  const sent = events.flatMap((e) => (rand() < 0.05 ? [e, e] : [e])).map((e) => JSON.stringify(e));
  for (let i = sent.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [sent[i], sent[j]] = [sent[j]!, sent[i]!];
  }
  for (const [i, bad] of malformed.entries()) {
    sent.splice(Math.floor((i + 1) * sent.length / (malformed.length + 1)), 0, bad);
  }
  return sent;
}

/** The final state of each order: its events folded in time order, each once. */
export function expectedStates(events: OrderEvent[]): Map<string, Omit<OrderStatus, "eventIds">> {
  const states = new Map<string, OrderStatus>();
  for (const e of events) states.set(e.orderId, foldOrderStatus(states.get(e.orderId), e));
  return new Map([...states].map(([id, { eventIds: _, ...state }]) => [id, state]));
}

/** Sends `messages` to `topic` in chunks. */
export async function produceAll(kafka: KafkaClient, topic: string, messages: string[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 1_000) {
    await kafka.produce(topic, messages.slice(i, i + 1_000).map((value) => ({ value })));
  }
}

/**
 * A project of its own around one webhook source: `<prefix>` (the source, at `POST /webhooks/<prefix>`,
 * signed Zendesk-style with the secret in the environment variable `secretVariable`), its deliveries read by
 * the stream asset `<prefix>/chat_messages` into nodes labelled `LiveChat_<prefix>`.
 */
export function chatStreamDefinitions(prefix: string, secretVariable: string): Definitions {
  const source = defineWebhookSource({ name: prefix, scheme: "zendesk", secrets: () => [process.env[secretVariable]] });
  const messages = defineStreamAsset<ChatMessage, ChatMessage, { webhookDeliveries: WebhookDeliveries }>({
    key: `${prefix}/chat_messages`,
    codeVersion: "1",
    table: `${prefix}_chat_messages`,
    stream: webhookDeliveries(source),
    model: z.preprocess(messageOfWebhookEvent, ChatMessage) as unknown as z.ZodType<ChatMessage>,
    eventId: chatMessageKey,
    sourceKey: chatMessageKey,
    rawKey: (event) => `${event?.conversation_id}:${event?.message?.id}`,
    updatedAt: (m) => m.sentAt,
  });
  const nodes = defineNodeAsset<ChatMessage>({
    key: `${prefix}/LiveChat`,
    codeVersion: "1",
    label: `LiveChat_${prefix}`,
    keyProperty: "messageKey",
    from: messages,
    properties: (m) => ({ ...m, messageKey: chatMessageKey(m) }),
  });
  return defineDefinitions({
    assets: [messages, nodes],
    resources: {
      staging: defineResource({
        setup: () => new Staging(createPool(settings().databaseUrl)),
        teardown: (s) => s.close(),
      }),
      webhookDeliveries: webhookDeliveriesResource(),
      neo4j: defineResource({ setup: () => connectNeo4j(), teardown: (d) => d.close() }),
    },
  });
}

/** The nodes of `label` by their `keyProperty`, without lineage properties (`ingest…`): what two consumptions compare. */
export async function nodesByKey(
  neo4j: Driver,
  label: string,
  keyProperty: string,
): Promise<Map<string, Record<string, unknown>>> {
  const { records } = await neo4j.executeQuery(`MATCH (n:${label}) RETURN n`);
  return new Map(records.map((r) => {
    const props = Object.fromEntries(
      Object.entries(r.get("n").properties as Record<string, unknown>).filter(([k]) => !k.startsWith("ingest")),
    );
    return [props[keyProperty] as string, props];
  }));
}

/** Deletes the nodes of each of `labels`: what a test's projects left in Neo4j. */
export async function dropLabels(neo4j: Driver, labels: Iterable<string>): Promise<void> {
  for (const label of labels) {
    await runInBatches(neo4j, `MATCH (n:${label}) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS`);
  }
}
