import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stockKey, StockUpdate } from "../../assets/ec/stock.ts";
import { connectNeo4j, defineNodeAsset } from "../../connectors/neo4j/index.ts";
import { Staging } from "../../connectors/staging/index.ts";
import {
  defineStreamAsset,
  isStreamAsset,
  type KafkaClient,
  openKafka,
  RabbitMq,
  rabbitmqQueue,
  type StreamAsset,
} from "../../connectors/streams/index.ts";
import type { AssetGraph } from "../../engine/asset-graph.ts";
import { streamLag } from "../../engine/automation/stream-sensor-tick.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { assetGraphOf, defineDefinitions } from "../../engine/definitions.ts";
import { defineResource, ResourcePool } from "../../engine/resource.ts";
import { createPool } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { startThrowawayKafka } from "../../stack/kafka.ts";
import { startThrowawayRabbitmq } from "../../stack/rabbitmq.ts";
import {
  asSent,
  dropLabels,
  expectedStates,
  nodesByKey,
  orderLifecycles,
  orderStreamDefinitions,
  produceAll,
  seeded,
} from "../stream-project.ts";
import { connect, materialize, withStoreOutageMs } from "../support.ts";

/**
 * Stream assets against real brokers (the stack's Kafka and RabbitMQ, and throwaway ones to kill): events
 * come out of order, twice and malformed, in micro-batches; the graph ends equal to what one clean
 * consumption of the same events gives, and the counts reconcile, batch by batch.
 */
let env: Awaited<ReturnType<typeof connect>>;
let kafka: KafkaClient;
const labels: string[] = [];

beforeAll(async () => {
  env = await connect();
  kafka = openKafka();
});
afterAll(async () => {
  await kafka?.close();
  if (env) {
    await dropLabels(env.neo4j, labels);
    await env.close();
  }
});

/** A consumer of a stream: materialises the graph until the stream is consumed, keeping each batch's counts. */
function consumer(graph: AssetGraph, stream: StreamAsset<unknown>, label: string, keyProperty: string) {
  labels.push(label);
  return {
    async consume(): Promise<Record<string, number>[]> {
      const batches: Record<string, number>[] = [];
      await using resources = new ResourcePool(graph.definitions.resources);
      for (let round = 0; round < 200; round++) {
        const { run } = await materialize(env.pool, graph);
        expect(run.status).toBe("succeeded");
        const { rows } = await env.pool.query(
          "select counts from ingest.materializations where run_id = $1 and asset_key = $2",
          [run.id, stream.key],
        );
        batches.push(rows[0].counts);
        if ((await streamLag(stream, resources, false)).messages === 0) return batches;
      }
      throw new Error("the stream was not consumed in 200 batches");
    },
    /** The nodes by key, without lineage properties (`ingest…`). */
    async nodes(): Promise<Record<string, Record<string, unknown>>> {
      return Object.fromEntries(await nodesByKey(env.neo4j, label, keyProperty));
    },
  };
}

/** The order-events project of `stream-project.ts` as a consumer. */
function orderConsumer(topic: string, options: { maxMessages: number; backlogMessages?: number; brokers?: string[] }) {
  const prefix = `so${randomUUID().slice(0, 8)}`;
  const graph = assetGraphOf(orderStreamDefinitions(prefix, topic, options));
  const stream = graph.byKey.get(`${prefix}/order_events`) as StreamAsset<unknown>;
  return { prefix, graph, stream, ...consumer(graph, stream, `StreamOrder_${prefix}`, "orderId") };
}

const total = (batches: Record<string, number>[], name: string) => batches.reduce((sum, c) => sum + (c[name] ?? 0), 0);

describe("a Kafka stream asset", () => {
  it("ends in the state of one clean consumption, whatever the order, duplicates and malformed messages", async () => {
    const topic = `test.orders.${randomUUID().slice(0, 8)}`;
    const rand = seeded(16);
    const events = orderLifecycles(300, rand);
    const malformed = [
      "{not json",
      JSON.stringify({ eventId: "x1", type: "order.paid", orderId: "o000001" }),
      "\u0000\u00ff",
    ];
    const sent = asSent(events, rand, malformed);
    // Sent in a few bursts, consumed in batches of 70 as they come.
    const live = orderConsumer(topic, { maxMessages: 70 });
    const batches: Record<string, number>[] = [];
    for (let i = 0; i < sent.length; i += 250) {
      await produceAll(kafka, topic, sent.slice(i, i + 250));
      batches.push(...(await live.consume()));
    }
    expect(batches.length).toBeGreaterThan(5);

    // Counts reconcile batch by batch, and in all: every message consumed is loaded, dead-lettered or a duplicate.
    for (const c of batches) expect(c.extracted).toBe(c.loaded! + c.deadLettered! + c.deduplicated!);
    expect(total(batches, "extracted")).toBe(sent.length);
    expect(total(batches, "loaded")).toBe(events.length);
    expect(total(batches, "deadLettered")).toBe(malformed.length);
    expect(total(batches, "deduplicated")).toBe(sent.length - events.length - malformed.length);
    const letters = await listDeadLetters(env.db, { assetKey: live.stream.key });
    expect(letters.map((l) => l.reason).sort()).toEqual(["invalid", "unparseable", "unparseable"]);
    expect(letters.find((l) => l.reason === "invalid")!.sourceKey).toBe("o000001");

    // The graph: each order's final state, whatever order its events came in.
    const expected = expectedStates(events);
    const nodes = await live.nodes();
    expect(Object.keys(nodes)).toHaveLength(expected.size);
    for (const [orderId, state] of expected) expect(nodes[orderId]).toEqual(state);
    expect([...expected.values()].filter((s) => s.status === "shipped").length).toBeGreaterThan(50);

    // A clean consumption of the same topic, in one batch, gives the same graph.
    const clean = orderConsumer(topic, { maxMessages: 100_000 });
    await clean.consume();
    expect(await clean.nodes()).toEqual(nodes);

    // Nothing new: a batch reads nothing and writes nothing.
    expect(await live.consume()).toEqual([expect.objectContaining({ extracted: 0, loaded: 0, written: 0 })]);
  });

  it("takes a backlog in large batches, and what comes while it keeps up in small ones", async () => {
    const topic = `test.backlog.${randomUUID().slice(0, 8)}`;
    const events = orderLifecycles(500, seeded(11));
    await produceAll(kafka, topic, events.map((e) => JSON.stringify(e)));
    const live = orderConsumer(topic, { maxMessages: 50, backlogMessages: 400 });
    const backlog = await live.consume();
    expect(backlog.map((c) => c.extracted)).toEqual([400, 400, events.length - 800]);
    await produceAll(kafka, topic, orderLifecycles(10, seeded(12), 10_000).map((e) => JSON.stringify(e)));
    const [small] = await live.consume();
    expect(small!.extracted).toBeGreaterThan(0);
    expect(small!.extracted).toBeLessThanOrEqual(50);
    expect(Object.keys(await live.nodes())).toHaveLength(510);
  });

  it("rides out a broker killed with SIGKILL and restarted: nothing lost, nothing doubled", async () => {
    const broker = await startThrowawayKafka();
    const client = openKafka(broker.brokers);
    try {
      const topic = "orders.killed";
      const rand = seeded(7);
      const events = orderLifecycles(400, rand);
      const sent = asSent(events, rand);
      const half = Math.floor(sent.length / 2);
      await produceAll(client, topic, sent.slice(0, half));
      const live = orderConsumer(topic, { maxMessages: 150, brokers: broker.brokers });
      await live.consume();

      broker.kill();
      // While the broker stays down, a run fails (once it has waited for it: 2 s here, minutes by default), and
      // says why; nothing is staged from it.
      const { run } = await withStoreOutageMs(
        2_000,
        () => materialize(env.pool, live.graph, [live.stream.key], { tags: {} }),
      );
      expect(run.status).toBe("failed");
      await broker.restart();
      await produceAll(client, topic, sent.slice(half));
      await live.consume();

      const expected = expectedStates(events);
      const nodes = await live.nodes();
      expect(Object.keys(nodes).sort()).toEqual([...expected.keys()].sort());
      for (const [orderId, state] of expected) expect(nodes[orderId]).toEqual(state);
      const applied = await env.pool.query("select count(*)::int as n from staging.stream_events where stream = $1", [
        `${live.prefix}_order_events`,
      ]);
      expect(applied.rows[0].n).toBe(events.length);
    } finally {
      await client.close();
      await broker.stop();
    }
  });
});

/** Stock updates from a RabbitMQ queue into a project of its own. */
function stockConsumer(queue: string, url: string, maxMessages: number) {
  const prefix = `ss${randomUUID().slice(0, 8)}`;
  const label = `StreamStock_${prefix}`;
  const updates = defineStreamAsset<StockUpdate, StockUpdate, { rabbitmq: RabbitMq }>({
    key: `${prefix}/stock_updates`,
    codeVersion: "1",
    table: `${prefix}_stock_updates`,
    stream: rabbitmqQueue({ queue }),
    model: StockUpdate,
    eventId: (s) => s.eventId,
    sourceKey: stockKey,
    rawKey: (raw) => raw.sku,
    updatedAt: (s) => s.occurredAt,
    batch: { maxMessages, backlogMessages: maxMessages, maxWaitMs: 100 },
  });
  const nodes = defineNodeAsset<StockUpdate>({
    key: `${prefix}/StockLevel`,
    codeVersion: "1",
    label,
    keyProperty: "stockKey",
    from: updates,
    properties: ({ eventId: _, ...s }) => ({ stockKey: stockKey(s as StockUpdate), ...s }),
  });
  const graph = assetGraphOf(defineDefinitions({
    assets: [updates, nodes],
    resources: {
      staging: defineResource({
        setup: () => new Staging(createPool(settings().databaseUrl)),
        teardown: (s) => s.close(),
      }),
      rabbitmq: defineResource({ setup: () => new RabbitMq(url), teardown: (r) => r.close() }),
      neo4j: defineResource({ setup: () => connectNeo4j(), teardown: (d) => d.close() }),
    },
  }));
  expect(isStreamAsset(updates)).toBe(true);
  return { prefix, graph, stream: updates, ...consumer(graph, updates, label, "stockKey") };
}

/** Stock updates of `skus` skus in 2 warehouses, `per` each, in time order. */
function stockUpdates(skus: number, per: number): StockUpdate[] {
  const t0 = Date.parse("2026-11-02T00:00:00Z");
  return Array.from({ length: skus * 2 * per }, (_, i) => {
    const sku = `SKU-${i % skus}`;
    const warehouse = `W${Math.floor(i / skus) % 2}`;
    return {
      eventId: `s${i}`,
      sku,
      warehouse,
      onHand: (i * 7) % 50,
      occurredAt: new Date(t0 + i * 1000).toISOString(),
    };
  });
}

describe("a RabbitMQ stream asset", () => {
  it("keeps the latest update of each key whatever the order, and a broker killed mid-stream loses nothing", async () => {
    const broker = await startThrowawayRabbitmq();
    const rabbit = new RabbitMq(broker.url);
    try {
      const queue = "inventory.killed";
      const updates = stockUpdates(60, 5);
      const rand = seeded(3);
      const sent = asSent(updates as never[], rand, ["[1,2", JSON.stringify({ eventId: "bad", sku: "SKU-1" })]);
      await rabbit.publish(queue, sent.slice(0, 300));
      const live = stockConsumer(queue, broker.url, 80);
      const first = await live.consume();
      expect(total(first, "extracted")).toBe(300);

      // Killed with messages waiting and a connection open: the worker's next batch fails, the one after reconnects.
      await rabbit.publish(queue, sent.slice(300, 500));
      broker.kill();
      await broker.restart();
      await rabbit.publish(queue, sent.slice(500));
      const rest = await live.consume();
      const batches = [...first, ...rest];
      for (const c of batches) expect(c.extracted).toBe(c.loaded! + c.deadLettered! + c.deduplicated!);
      expect(total(batches, "extracted")).toBe(sent.length);
      expect(total(batches, "deadLettered")).toBe(2);

      // The latest update of each sku and warehouse, by its own time.
      const latest = new Map<string, StockUpdate>();
      for (const u of updates) latest.set(stockKey(u), u);
      const nodes = await live.nodes();
      expect(Object.keys(nodes).sort()).toEqual([...latest.keys()].sort());
      for (const [key, { eventId: _, ...u }] of latest) expect(nodes[key]).toEqual({ stockKey: key, ...u });
    } finally {
      await rabbit.close();
      await broker.stop();
    }
  });
});
