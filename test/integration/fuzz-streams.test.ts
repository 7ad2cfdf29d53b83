import fc from "fast-check";
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { foldOrderStatus, OrderEvent, type OrderStatus } from "../../assets/ec/order-events.ts";
import { defineNodeAsset, neo4jResource } from "../../connectors/neo4j/index.ts";
import {
  maxRecordDepth,
  nestedDeeperThan,
  Staging,
  stagingResource,
  unstorableKey,
} from "../../connectors/staging/index.ts";
import {
  defineStreamAsset,
  type KafkaClient,
  kafkaTopic,
  openKafka,
  type StreamSource,
  webhookDeliveries,
  webhookDeliveriesResource,
  writePositions,
} from "../../connectors/streams/index.ts";
import { defineWebhookSource, signDelivery, webhookApp } from "../../connectors/webhooks/index.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { streamLag } from "../../engine/automation/stream-sensor-tick.ts";
import { canonicalJson, storable } from "../../engine/canonical-json.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { defineDefinitions } from "../../engine/definitions.ts";
import { defineResource, ResourcePool } from "../../engine/resource.ts";
import {
  fieldValue,
  fuzzSeed,
  garbage,
  hostileText,
  hugeNumbers,
  longKeys,
  megabyteText,
  nestedJson,
  oddDates,
  sameValue,
} from "../fuzz-inputs.ts";
import { recordFigure } from "../reliability.ts";
import { dropLabels, nodesByKey } from "../stream-project.ts";
import { connect, materialize } from "../support.ts";

/**
 * The stream path with fuzzed message bodies: order events (the bundled OrderEvent model and fold) as a
 * stream of a memory source, a Kafka topic, and webhook deliveries posted to the receiver, among them events with
 * hostile fields, events sent twice, and bodies that are not events (binary garbage, invalid UTF-8, cut short,
 * empty, JSON of another shape, 5,000 deep, 1 MiB, keys no index holds). Every message is applied once,
 * deduplicated, or dead-lettered with its reason; the counts reconcile batch by batch; the staged states and their
 * nodes equal a clean fold of the events that passed. The receiver stores every signed delivery byte for byte, and
 * none that is unsigned or too large.
 */
let env: Awaited<ReturnType<typeof connect>>;
const labels: string[] = [];
const tables: string[] = [];
beforeAll(async () => {
  env = await connect();
});
afterAll(async () => {
  for (const table of tables) {
    await env?.pool.query(`drop table if exists staging.${table}`);
    await env?.pool.query("delete from staging.stream_events where stream = $1", [table]);
    await env?.pool.query("delete from staging.stream_positions where stream = $1", [table]);
  }
  if (env) {
    await dropLabels(env.neo4j, labels);
    await env.close();
  }
});

const time = fc.oneof({ arbitrary: fieldValue("timestamp"), weight: 8 }, fc.constantFrom(...oddDates));
const orderId = fc.oneof(
  { arbitrary: fc.stringMatching(/^o[0-9]{1,3}$/), weight: 12 },
  hostileText,
  fc.constantFrom(...longKeys),
);
const eventId = fc.oneof({ arbitrary: fc.uuid(), weight: 12 }, hostileText);

/** An order event as the shop sends it, its fields hostile at times. */
const event = fc.oneof(
  fc.record({
    eventId,
    type: fc.constant("order.placed"),
    orderId,
    occurredAt: time,
    customerId: fieldValue("id"),
    total: fc.oneof(fieldValue("amount"), fc.double()),
    currency: fieldValue("currency"),
  }),
  fc.record({ eventId, type: fc.constant("order.paid"), orderId, occurredAt: time, paymentId: fieldValue("id") }),
  fc.record({
    eventId,
    type: fc.constant("order.shipped"),
    orderId,
    occurredAt: time,
    carrier: fieldValue("text"),
    trackingNumber: fieldValue("id"),
  }),
);

/** Bodies that are not an event: garbage, cut short, another shape, deep, huge numbers, 1 MiB. */
const notAnEvent = fc.oneof(
  garbage.map((bytes) => Buffer.from(bytes)),
  event.map((e) => Buffer.from(JSON.stringify(e).slice(0, -3))),
  fc.constantFrom(
    "",
    "null",
    "[]",
    '"order.paid"',
    nestedJson(5_000),
    `{"eventId":"deep","type":"order.paid","orderId":"o1","occurredAt":"2026-01-01T00:00:00Z","paymentId":${
      nestedJson(3_000, true)
    }}`,
    `{"eventId":"huge","type":"order.placed","orderId":"o2","occurredAt":"2026-01-01T00:00:00Z","customerId":"c",` +
      `"total":${hugeNumbers[0]},"currency":"EUR"}`,
    JSON.stringify({ eventId: "mb", type: "order.paid", orderId: "o3", occurredAt: "x", paymentId: megabyteText }),
  ).map((text) => Buffer.from(text)),
);

/** A stream's messages: mostly events, some sent twice, some not events at all. */
const messages = (count: number) => {
  const bodies = fc.sample(
    fc.oneof(
      { arbitrary: event.map((e) => Buffer.from(JSON.stringify(e))), weight: 8 },
      { arbitrary: notAnEvent, weight: 2 },
    ),
    { seed: fuzzSeed, numRuns: count },
  );
  // about one in twenty again, later: a producer's retry
  return bodies.flatMap((body, i) => (i % 20 === 7 ? [body, body] : [body]));
};

/**
 * What a stream asset makes of `bodies`, as it consumes them (without the database): each body not JSON
 * `unparseable`, refused by the model `invalid`, staged too deep `unparseable`, with a key no index holds
 * `invalid`; of the events left, the first of each id applied (folded by order) and the others deduplicated.
 */
function streamOutcome(bodies: Buffer[]) {
  const deadLetters: string[] = [];
  const applied: OrderEvent[] = [];
  const ids = new Set<string>();
  let deduplicated = 0;
  for (const body of bodies) {
    let raw: unknown;
    try {
      raw = JSON.parse(body.toString("utf8"));
    } catch {
      deadLetters.push("unparseable");
      continue;
    }
    const parsed = OrderEvent.safeParse(raw);
    if (!parsed.success) deadLetters.push("invalid");
    else if (nestedDeeperThan(parsed.data, maxRecordDepth)) deadLetters.push("unparseable");
    else if (unstorableKey("", parsed.data.orderId, raw)) deadLetters.push("invalid");
    else if (ids.has(parsed.data.eventId)) deduplicated += 1;
    else {
      ids.add(parsed.data.eventId);
      applied.push(parsed.data);
    }
  }
  const states = new Map<string, OrderStatus>();
  // keyed as the staging table holds keys: half a character as U+FFFD
  for (const e of applied) states.set(storable(e.orderId), foldOrderStatus(states.get(storable(e.orderId)), e));
  return { deadLetters, applied: applied.length, deduplicated, states };
}

/** A stream of messages held in memory, one part, read in order: a stream source of the test's own. */
function memoryStream(bodies: Buffer[]): StreamSource {
  const at = (positions: Map<string, string>) => Number(positions.get("memory") ?? 0);
  return {
    name: "memory:fuzz",
    resources: [],
    read(_resources, { stream, positions, max }) {
      const from = at(positions);
      const batch = bodies.slice(from, from + max);
      return Promise.resolve({
        messages: batch.map((body, i) => ({ body, position: `memory@${from + i}` })),
        commitIn: (client) => writePositions(client, stream, new Map([["memory", String(from + batch.length)]])),
      });
    },
    lag: (_resources, { positions }) => Promise.resolve({ messages: bodies.length - at(positions), oldestAgeMs: null }),
  };
}

/**
 * Consumes `stream` (up to 100 batches) into a stream asset and node asset of order statuses, and checks what
 * it did against {@link streamOutcome}: counts summed over the batches, dead letters by reason, staged states and
 * nodes. Returns the records lost or duplicated (0 when the checks pass).
 */
async function consumeAndCheck(
  name: string,
  stream: StreamSource<never>,
  bodies: Buffer[],
  resources: Record<string, ReturnType<typeof defineResource>>,
  maxMessages: number,
) {
  const prefix = `fz${name}${randomBytes(3).toString("hex")}`;
  const table = `${prefix}_order_events`;
  const label = `FuzzStream_${prefix}`;
  tables.push(table);
  labels.push(label);
  const events = defineStreamAsset<OrderEvent, OrderStatus>({
    key: `${prefix}/order_events`,
    codeVersion: "1",
    table,
    stream: stream as StreamSource,
    model: OrderEvent,
    eventId: (e) => e.eventId,
    sourceKey: (e) => e.orderId,
    rawKey: (raw) => raw?.orderId,
    fold: foldOrderStatus,
    batch: { maxMessages, backlogMessages: maxMessages, maxWaitMs: 50 },
  });
  const nodes = defineNodeAsset<OrderStatus>({
    key: `${prefix}/OrderStatus`,
    codeVersion: "1",
    label,
    keyProperty: "orderId",
    from: events,
    properties: ({ eventIds: _, ...status }) => status,
  });
  const definitions = defineDefinitions({
    assets: [events, nodes],
    resources: { staging: stagingResource(), neo4j: neo4jResource(), ...resources },
  });
  const graph = buildAssetGraph(definitions);
  await using pool = new ResourcePool(definitions.resources);
  const totals = { extracted: 0, loaded: 0, deadLettered: 0, deduplicated: 0 };
  const runs: string[] = [];
  for (let round = 0; round < 100 && (round === 0 || (await streamLag(events, pool, false)).messages > 0); round++) {
    const { run } = await materialize(env.pool, graph);
    expect(run.status, run.error ?? "").toBe("succeeded");
    runs.push(run.id);
    const { counts } = await env.db.selectFrom("ingest.materializations").select("counts").where("run_id", "=", run.id)
      .where("asset_key", "=", events.key).executeTakeFirstOrThrow();
    // each batch reconciles on its own
    expect(counts.extracted).toBe((counts.loaded ?? 0) + (counts.deadLettered ?? 0) + (counts.deduplicated ?? 0));
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += counts[k] ?? 0;
  }
  const want = streamOutcome(bodies);
  expect(totals).toEqual({
    extracted: bodies.length,
    loaded: want.applied,
    deadLettered: want.deadLetters.length,
    deduplicated: want.deduplicated,
  });
  const letters = await listDeadLetters(env.db, { assetKey: events.key, status: "all" });
  expect(letters.map((l) => l.reason).sort()).toEqual([...want.deadLetters].sort());
  expect(letters.every((l) => l.issues.length > 0 && l.issues.every((i) => i.message.length > 0))).toBe(true);
  const staged = new Map((await new Staging(env.pool).read<OrderStatus>(table)).map((s) => [s.sourceKey, s.record]));
  const graphNodes = await nodesByKey(env.neo4j, label, "orderId");
  let lost = Math.abs(staged.size - want.states.size) + Math.abs(graphNodes.size - want.states.size);
  for (const [key, state] of want.states) {
    if (!sameValue(staged.get(key), JSON.parse(canonicalJson(state)))) lost += 1;
    const { eventIds: _, ...status } = JSON.parse(canonicalJson(state)) as OrderStatus;
    if (!sameValue(graphNodes.get(key), status)) lost += 1;
  }
  expect(lost, `${name}: records lost or duplicated`).toBe(0);
  return { lost, runs: runs.length };
}

describe("stream assets over fuzzed message bodies", () => {
  it("apply each event once, dead-letter each body that is not one with its reason, and reconcile batch by batch", async () => {
    const bodies = messages(2_000);
    const { lost, runs } = await consumeAndCheck("mem", memoryStream(bodies) as StreamSource<never>, bodies, {}, 700);
    recordFigure("fuzz: streams cases", bodies.length, "messages", ">= 1000", `a memory stream, ${runs} batches`);
    recordFigure("fuzz: streams records lost or duplicated", lost, "records", "<= 0");
  });

  it("do the same over a Kafka topic", async () => {
    const topic = `fuzz.orders.${randomUUID().slice(0, 8)}`;
    // the broker refuses a message over its max.message.bytes (1 MB): the 1 MiB events are left to the others
    const bodies = messages(400).filter((body) => body.length < 1_000_000);
    const kafka: KafkaClient = openKafka();
    try {
      for (let i = 0; i < bodies.length; i += 200) {
        await kafka.produce(topic, bodies.slice(i, i + 200).map((value) => ({ value })));
      }
    } finally {
      await kafka.close();
    }
    const resources = { kafka: defineResource({ setup: () => openKafka(), teardown: (k) => k.close() }) };
    const { lost, runs } = await consumeAndCheck(
      "kafka",
      kafkaTopic({ topic }) as unknown as StreamSource<never>,
      bodies,
      resources,
      150,
    );
    recordFigure("fuzz: kafka cases", bodies.length, "messages", ">= 300", `${runs} batches`);
    recordFigure("fuzz: kafka records lost or duplicated", lost, "records", "<= 0");
  });
});

describe("the webhook receiver over fuzzed deliveries", () => {
  it("stores every signed delivery byte for byte and no other, and its stream applies or dead-letters each once", async () => {
    const secret = `whsec_${randomBytes(12).toString("hex")}`;
    const source = defineWebhookSource({
      name: `fz${randomBytes(3).toString("hex")}`,
      scheme: "zendesk",
      secrets: () => [secret],
    });
    const app = webhookApp({ pool: env.pool, sources: [source] });
    const bodies = messages(1_000);
    // with them, a body over the 1 MiB limit and deliveries signed wrongly or not at all: refused, never stored
    const refused = fc.sample(
      fc.tuple(garbage, fc.constantFrom("none", "wrong secret", "garbage")),
      { seed: fuzzSeed, numRuns: 100 },
    );
    const stored: Buffer[] = [];
    // ten senders at once, as a busy platform posts
    for (let start = 0; start < bodies.length; start += 10) {
      await Promise.all(
        bodies.slice(start, start + 10).map(async (body, j) => {
          const response = await app.request(`/webhooks/${source.name}`, {
            method: "POST",
            body,
            headers: { "x-delivery-id": `d${start + j}`, ...signDelivery(source, secret, body) },
          });
          expect(response.status, `delivery ${start + j}`).toBe(body.length > source.maxBodyBytes ? 413 : 202);
          if (response.status === 202) stored.push(body);
        }),
      );
    }
    for (const [i, [bytes, how]] of refused.entries()) {
      const body = Buffer.from(bytes);
      const headers = how === "none" ? {} : how === "wrong secret" ? signDelivery(source, "not the secret", body) : {
        "x-zendesk-webhook-signature": Buffer.from(bytes).toString("latin1").replace(/[^\x20-\x7e]/g, "x"),
        "x-zendesk-webhook-signature-timestamp": "yesterday",
      };
      const response = await app.request(`/webhooks/${source.name}`, {
        method: "POST",
        body,
        headers: { "x-delivery-id": `r${i}`, ...headers },
      });
      expect(response.status).toBe(401);
    }
    const { rows } = await env.pool.query<{ body: Buffer }>(
      "select body from ingest.webhook_deliveries where source = $1 order by id",
      [source.name],
    );
    const base64 = (list: Buffer[]) => list.map((b) => b.toString("base64")).sort();
    expect(base64(rows.map((r) => r.body))).toEqual(base64(stored));
    try {
      const { lost, runs } = await consumeAndCheck(
        "webhook",
        webhookDeliveries(source) as unknown as StreamSource<never>,
        stored,
        { webhookDeliveries: webhookDeliveriesResource() },
        400,
      );
      recordFigure("fuzz: webhooks cases", bodies.length + refused.length, "deliveries", ">= 1000", `${runs} batches`);
      recordFigure("fuzz: webhooks records lost or duplicated", lost, "records", "<= 0");
    } finally {
      await env.pool.query("delete from ingest.webhook_deliveries where source = $1", [source.name]);
      await env.pool.query("delete from ingest.webhook_rejections where source = $1", [source.name]);
    }
  });
});
