import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { foldOrderStatus, OrderEvent, type OrderStatus } from "../../assets/ec/order-events.ts";
import { connectNeo4j, defineNodeAsset } from "../../connectors/neo4j/index.ts";
import { Staging } from "../../connectors/staging/index.ts";
import { defineStreamAsset, type KafkaClient, kafkaTopic, openKafka } from "../../connectors/streams/index.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { streamLag } from "../../engine/automation/stream-sensor-tick.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { defineResource, ResourcePool } from "../../engine/resource.ts";
import { createPool } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { connect, materialize } from "../support.ts";

/**
 * Stream assets against the stack's real Kafka: events come out of order, twice and malformed, in
 * micro-batches; the graph ends equal to what one clean consumption of the same events gives, and the
 * counts reconcile, batch by batch.
 */
let env: Awaited<ReturnType<typeof connect>>;
let kafka: KafkaClient;

beforeAll(async () => {
  env = await connect();
  kafka = openKafka();
});
afterAll(async () => {
  await kafka?.close();
  await env?.close();
});

/** A seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** The lifecycle events of `n` orders (some only placed or paid), in time order. */
function orderLifecycles(n: number, rand: () => number): OrderEvent[] {
  const events: OrderEvent[] = [];
  const t0 = Date.parse("2026-11-01T00:00:00Z");
  for (let i = 0; i < n; i++) {
    const orderId = `o${String(i).padStart(5, "0")}`;
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

/** The messages a real producer sends: shuffled (out of order), about 5% twice, and `malformed` bad ones. */
function asSent(events: OrderEvent[], rand: () => number, malformed: string[]): string[] {
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

/** A project of its own: the order events of `topic` staged in a table of its own, as nodes of a label of its own. */
function project(topic: string, maxMessages: number) {
  const id = randomUUID().slice(0, 8);
  const label = `StreamOrder_${id}`;
  const events = defineStreamAsset<OrderEvent, OrderStatus, { kafka: KafkaClient }>({
    key: `stream_${id}/order_events`,
    codeVersion: "1",
    table: `stream_${id}_order_events`,
    stream: kafkaTopic({ topic }),
    model: OrderEvent,
    eventId: (e) => e.eventId,
    sourceKey: (e) => e.orderId,
    rawKey: (raw) => raw.orderId,
    fold: foldOrderStatus,
    batch: { maxMessages, maxWaitMs: 50 },
  });
  const nodes = defineNodeAsset<OrderStatus>({
    key: `stream_${id}/OrderStatus`,
    codeVersion: "1",
    label,
    keyProperty: "orderId",
    from: events,
    properties: ({ eventIds: _, ...status }) => status,
  });
  const graph = buildAssetGraph({
    assets: [events, nodes],
    resources: {
      staging: defineResource({
        setup: () => new Staging(createPool(settings().databaseUrl)),
        teardown: (s) => s.close(),
      }),
      kafka: defineResource({ setup: () => openKafka(), teardown: (k) => k.close() }),
      neo4j: defineResource({ setup: () => connectNeo4j(), teardown: (d) => d.close() }),
    },
  });

  /** Materialises the project until its stream is consumed; the stream asset's counts of every batch. */
  async function consume(): Promise<Record<string, number>[]> {
    const batches: Record<string, number>[] = [];
    const resources = new ResourcePool(graph.definitions.resources);
    try {
      for (let round = 0; round < 200; round++) {
        const { run } = await materialize(env.pool, graph);
        expect(run.status).toBe("succeeded");
        const { rows } = await env.pool.query(
          "select counts from ingest.materializations where run_id = $1 and asset_key = $2",
          [run.id, events.key],
        );
        batches.push(rows[0].counts);
        if ((await streamLag(events, resources, false)).messages === 0) return batches;
      }
      throw new Error("the stream was not consumed in 200 batches");
    } finally {
      await resources.close();
    }
  }

  /** The nodes, by order id, without lineage properties (`ingest…`). */
  async function nodesNow(): Promise<Record<string, Record<string, unknown>>> {
    const { records } = await env.neo4j.executeQuery(`MATCH (n:${label}) RETURN n ORDER BY n.orderId`);
    return Object.fromEntries(records.map((r) => {
      const props = Object.fromEntries(
        Object.entries(r.get("n").properties as Record<string, unknown>).filter(([k]) => !k.startsWith("ingest")),
      );
      return [props.orderId as string, props];
    }));
  }

  return { events, graph, label, consume, nodesNow };
}

/** The final state of each order: its events folded in time order, each once. */
function expectedStates(events: OrderEvent[]): Map<string, OrderStatus> {
  const states = new Map<string, OrderStatus>();
  for (const e of events) states.set(e.orderId, foldOrderStatus(states.get(e.orderId), e));
  return states;
}

describe("a Kafka stream asset", () => {
  it("ends in the state of one clean consumption, whatever the order, duplicates and malformed messages", async () => {
    const topic = `test.orders.${randomUUID().slice(0, 8)}`;
    const rand = random(16);
    const events = orderLifecycles(300, rand);
    const malformed = [
      "{not json",
      JSON.stringify({ eventId: "x1", type: "order.paid", orderId: "o00001" }),
      "\u0000\u00ff",
    ];
    const sent = asSent(events, rand, malformed);
    // Sent in a few bursts, consumed in batches of 70 as they come.
    const live = project(topic, 70);
    const batches: Record<string, number>[] = [];
    for (let i = 0; i < sent.length; i += 250) {
      await kafka.produce(topic, sent.slice(i, i + 250).map((value) => ({ value })));
      batches.push(...(await live.consume()));
    }
    expect(batches.length).toBeGreaterThan(5);

    // Counts reconcile batch by batch, and in all: every message consumed is loaded, dead-lettered or a duplicate.
    const total = (name: string) => batches.reduce((sum, c) => sum + (c[name] ?? 0), 0);
    for (const c of batches) expect(c.extracted).toBe(c.loaded! + c.deadLettered! + c.deduplicated!);
    expect(total("extracted")).toBe(sent.length);
    expect(total("loaded")).toBe(events.length);
    expect(total("deadLettered")).toBe(malformed.length);
    expect(total("deduplicated")).toBe(sent.length - events.length - malformed.length);
    const letters = await listDeadLetters(env.db, { assetKey: live.events.key });
    expect(letters.map((l) => l.reason).sort()).toEqual(["invalid", "unparseable", "unparseable"]);
    expect(letters.find((l) => l.reason === "invalid")!.sourceKey).toBe("o00001");

    // The graph: each order's final state, whatever order its events came in.
    const expected = expectedStates(events);
    const nodes = await live.nodesNow();
    expect(Object.keys(nodes)).toHaveLength(expected.size);
    for (const [orderId, state] of expected) {
      const { eventIds: _, ...props } = state;
      expect(nodes[orderId]).toEqual(props);
    }
    const shippedBeforePaid = [...expected.values()].filter((s) => s.status === "shipped");
    expect(shippedBeforePaid.length).toBeGreaterThan(50);

    // A clean consumption of the same topic, in one batch, gives the same graph.
    const clean = project(topic, 100_000);
    await clean.consume();
    expect(await clean.nodesNow()).toEqual(nodes);

    // Nothing new: a batch reads nothing and writes nothing.
    const again = await live.consume();
    expect(again).toEqual([expect.objectContaining({ extracted: 0, loaded: 0, written: 0 })]);
  });
});
