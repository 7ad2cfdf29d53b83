import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type KafkaClient, openKafka, type StreamAsset } from "../../connectors/streams/index.ts";
import { streamLag } from "../../engine/automation/stream-sensor-tick.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { assetGraphOf } from "../../engine/definitions.ts";
import { ResourcePool } from "../../engine/resource.ts";
import { packageRoot } from "../../resources/settings.ts";
import { signDelivery } from "../../connectors/webhooks/source.ts";
import { type LiveMessage, liveMessages } from "../../samples/generate/streams.ts";
import { freePort } from "../../stack/throwaway.ts";
import { stopServer } from "../../stack/process.ts";
import { stackUp } from "../../stack/stack.ts";
import type { OrderEvent } from "../../assets/ec/order-events.ts";
import { until } from "../queue-project.ts";
import {
  asSent,
  chatStreamDefinitions,
  dropLabels,
  expectedStates,
  nodesByKey,
  orderLifecycles,
  orderStreamDefinitions,
  produceAll,
  seeded,
} from "../stream-project.ts";
import { connect, materialize } from "../support.ts";

/**
 * The real-time path as it runs unattended: a daemon whose stream sensor requests runs while messages wait,
 * and workers in processes of their own — one SIGKILLed in the middle of a batch. Afterwards the graph is
 * what a clean consumption of the same events gives: no order lost, none doubled, each malformed message
 * dead-lettered once.
 */
const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "cli", "main.ts");
const dir = mkdtempSync(join(tmpdir(), "ingest-stream-faults-"));
const children: ChildProcess[] = [];
let env: Awaited<ReturnType<typeof connect>>;
let kafka: KafkaClient;
/** The labels the tests' projects write, deleted afterwards. */
const labels: string[] = [];

beforeAll(async () => {
  env = await connect();
  kafka = openKafka();
});

/** Each test's processes end with it: a daemon left running would keep the lead from the next test's. */
function stopChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

afterEach(stopChildren);

afterAll(async () => {
  stopChildren();
  await kafka?.close();
  if (env) {
    await dropLabels(env.neo4j, labels);
    await env.close();
  }
  if (!process.env.INGEST_KEEP_TEST_FILES) rmSync(dir, { recursive: true, force: true });
});

/**
 * A project of its own (see `stream-project.ts`) on a topic of its own, as this process and the worker and
 * daemon processes it starts load it: `start` runs `ingest <args>` on it, its log in the test's folder.
 */
function streamProject(maxMessages: number, poison?: string) {
  const prefix = `sf${randomUUID().slice(0, 8)}`;
  labels.push(`StreamOrder_${prefix}`);
  const topic = `test.faults.${prefix}`;
  const definitions = join(dir, `${prefix}.definitions.ts`);
  writeFileSync(
    definitions,
    `import { orderStreamDefinitions } from ${JSON.stringify(join(packageRoot, "test", "stream-project.ts"))};\n` +
      `export default orderStreamDefinitions(${JSON.stringify(prefix)}, ${JSON.stringify(topic)}, ${
        JSON.stringify({ maxMessages, poison })
      });\n`,
  );
  const graph = assetGraphOf(orderStreamDefinitions(prefix, topic, { maxMessages, poison }));
  const stream = graph.byKey.get(`${prefix}/order_events`) as StreamAsset<unknown>;
  return {
    prefix,
    topic,
    graph,
    stream,
    start: (name: string, ...args: string[]) => start(definitions, `${prefix}-${name}`, ...args),
    /** Until the stream is consumed and no run of its sensor is left. */
    async consumed(ms: number): Promise<void> {
      await using resources = new ResourcePool(graph.definitions.resources);
      await until("the stream consumed and loaded", ms, async () => {
        try {
          if ((await streamLag(stream, resources, false)).messages > 0) return false;
          const { rows } = await env.pool.query(
            `select count(*)::int as n from ingest.runs where status in ('queued', 'running', 'canceling')
             and tags ->> 'ingest/instigator' = $1`,
            [`${prefix}_stream`],
          );
          return rows[0].n === 0;
        } catch {
          return false; // the database is restarting
        }
      });
    },
    /** The nodes by order id, without lineage properties (`ingest…`). */
    nodes: () => nodesByKey(env.neo4j, `StreamOrder_${prefix}`, "orderId"),
    async appliedEvents(): Promise<number> {
      const { rows } = await env.pool.query("select count(*)::int as n from staging.stream_events where stream = $1", [
        `${prefix}_order_events`,
      ]);
      return rows[0].n;
    },
  };
}

/** `ingest <args>` in a process of its own, on the project `definitions`, its log in the test's folder. */
function start(definitions: string, name: string, ...args: string[]): ChildProcess {
  const log = openSync(join(dir, `${name}.log`), "a");
  const child = spawn(node, [cli, "--definitions", definitions, ...args], {
    stdio: ["ignore", log, log],
    // A killed worker's job goes to another within seconds, not the default 30.
    env: { ...process.env, INGEST_HEARTBEAT_MS: "500", INGEST_WORKER_TIMEOUT_MS: "2000" },
  });
  children.push(child);
  return child;
}

/** Order events with `malformed` bad messages among them, as sent: out of order and some twice. */
function orderStream(seed: number, orders: number, malformed: number) {
  const rand = seeded(seed);
  const events = orderLifecycles(orders, rand);
  const bad = Array.from(
    { length: malformed },
    (_, i) =>
      i % 2 ? `{"eventId": "bad${i}"` : JSON.stringify({ eventId: `bad${i}`, type: "order.placed", orderId: `o${i}` }),
  );
  return { events, malformed: bad, sent: asSent(events, rand, bad) };
}

/** The graph and staging equal one clean consumption of `events`: each order's final state, each event applied once. */
async function expectCleanConsumption(project: ReturnType<typeof streamProject>, events: OrderEvent[]) {
  const nodes = await project.nodes();
  const expected = expectedStates(events);
  expect(nodes.size).toBe(expected.size);
  for (const [orderId, state] of expected) expect(nodes.get(orderId)).toEqual(state);
  expect(await project.appliedEvents()).toBe(events.length);
}

/** Until a batch of the project's stream has committed. */
const firstBatchCommitted = (prefix: string) =>
  until("a batch committed", 60_000, async () => {
    const { rows } = await env.pool.query(
      "select count(*)::int as n from staging.stream_positions where stream = $1",
      [`${prefix}_order_events`],
    );
    return rows[0].n > 0;
  });

describe("streams under faults", () => {
  it("a worker SIGKILLed mid-batch: another finishes, and the graph equals a clean consumption", async () => {
    const project = streamProject(400);
    const { prefix, topic, stream } = project;
    const { events, malformed, sent } = orderStream(42, 4_000, 12);

    project.start("daemon", "daemon");
    const first = project.start("worker-1", "worker", "--concurrency", "2");
    await produceAll(kafka, topic, sent.slice(0, 3_000));
    // Killed while a batch of the stream is being consumed, after some batches committed.
    await until("a batch committed and the next one running", 60_000, async () => {
      const { rows } = await env.pool.query(
        `select (select count(*) from staging.stream_positions where stream = $1)::int as committed,
                (select count(*) from ingest.run_steps where asset_key = $2 and status = 'running')::int as running`,
        [`${prefix}_order_events`, stream.key],
      );
      return rows[0].committed > 0 && rows[0].running > 0;
    });
    first.kill("SIGKILL");
    await produceAll(kafka, topic, sent.slice(3_000));
    project.start("worker-2", "worker", "--concurrency", "2");
    await project.consumed(120_000);

    await expectCleanConsumption(project, events);
    // Each malformed message dead-lettered once, though a batch was cut short by the kill.
    const letters = await listDeadLetters(env.db, { assetKey: stream.key, status: "all" });
    expect(letters).toHaveLength(malformed.length);
    // Coalescing: the sensor requested runs by the batch, not by the message.
    const { rows } = await env.pool.query(
      "select count(*)::int as n from ingest.runs where tags ->> 'ingest/instigator' = $1",
      [`${prefix}_stream`],
    );
    expect(rows[0].n).toBeGreaterThan(1);
    expect(rows[0].n).toBeLessThan(sent.length / 20);
  });

  it("Postgres restarted mid-stream: the worker and the daemon carry on, the graph equals a clean consumption", async () => {
    const project = streamProject(300);
    const { prefix, topic } = project;
    const { events, sent } = orderStream(9, 3_000, 6);
    const daemon = project.start("daemon", "daemon");
    const worker = project.start("worker", "worker", "--concurrency", "2");
    await produceAll(kafka, topic, sent.slice(0, 4_000));
    await firstBatchCommitted(prefix);

    await stopServer("postgres");
    await sleep(2_000);
    await stackUp(["postgres"]);
    await produceAll(kafka, topic, sent.slice(4_000));
    // Both ride the restart out: the worker's pool and the daemon's wait for the database to come back.
    await sleep(3_000);
    expect(daemon.exitCode === null && daemon.signalCode === null, "the daemon outlived the restart").toBe(true);
    expect(worker.exitCode === null && worker.signalCode === null, "the worker outlived the restart").toBe(true);
    await project.consumed(180_000);

    await expectCleanConsumption(project, events);
    const letters = await listDeadLetters(env.db, { assetKey: project.stream.key, status: "all" });
    expect(letters).toHaveLength(6);
  });

  it("webhooks: a receiver killed mid-burst — every delivery it acknowledged reaches the graph, no badly signed one", async () => {
    const prefix = `wh${randomUUID().slice(0, 8)}`;
    labels.push(`LiveChat_${prefix}`);
    const secret = randomUUID();
    const definitions = join(dir, `${prefix}.definitions.ts`);
    writeFileSync(
      definitions,
      `import { chatStreamDefinitions } from ${JSON.stringify(join(packageRoot, "test", "stream-project.ts"))};\n` +
        `export default chatStreamDefinitions(${JSON.stringify(prefix)}, "STREAM_TEST_WEBHOOK_SECRET");\n`,
    );
    process.env.STREAM_TEST_WEBHOOK_SECRET = secret;
    const graph = assetGraphOf(chatStreamDefinitions(prefix, "STREAM_TEST_WEBHOOK_SECRET"));
    const stream = graph.byKey.get(`${prefix}/chat_messages`) as StreamAsset<unknown>;
    const port = await freePort();
    const receiver = async (name: string) => {
      const child = start(definitions, `${prefix}-${name}`, "webhooks", "--port", String(port));
      await until(
        "the receiver listening",
        30_000,
        () => fetch(`http://127.0.0.1:${port}/webhooks/health`).then((r) => r.ok, () => false),
      );
      return child;
    };
    // About 1,500 chat deliveries as the sample sends them: some twice, some malformed, some badly signed.
    const deliveries = [...liveMessages({ seed: 5, count: 15_000, start: Date.parse("2026-12-01T00:00:00Z") })]
      .filter((m) => m.stream === "chat");
    const url = `http://127.0.0.1:${port}/webhooks/${prefix}`;
    const send = (m: LiveMessage) =>
      fetch(url, {
        method: "POST",
        headers: {
          ...signDelivery("zendesk", m.kind === "bad-signature" ? `${secret}-stale` : secret, m.body),
          "content-type": "application/json",
          ...(m.id && { "x-zendesk-webhook-id": m.id }),
        },
        body: m.body,
      }).then(async (r) => {
        await r.body?.cancel();
        return r.status;
      }, () => 0);

    const first = await receiver("receiver-1");
    const answers = new Map<LiveMessage, number>();
    let answered = 0;
    await Promise.all(Array.from({ length: 32 }, async (_, lane) => {
      for (let i = lane; i < deliveries.length; i += 32) {
        const status = await send(deliveries[i]!);
        answers.set(deliveries[i]!, status);
        if (++answered === Math.floor(deliveries.length / 3)) first.kill("SIGKILL");
      }
    }));
    const acknowledged = [...answers].filter(([, status]) => status === 202).map(([m]) => m);
    expect(acknowledged.length).toBeGreaterThan(deliveries.length / 4);
    expect([...answers.values()].filter((s) => s === 0).length).toBeGreaterThan(0);
    // The sender retries what got no 2xx; a second receiver takes them.
    await receiver("receiver-2");
    for (const [m, status] of answers) if (status !== 202 && status !== 401) answers.set(m, await send(m));
    expect([...answers.values()].every((s) => s === 202 || s === 401)).toBe(true);

    await using resources = new ResourcePool(graph.definitions.resources);
    for (let round = 0; (await streamLag(stream, resources, false)).messages > 0; round++) {
      expect(round).toBeLessThan(50);
      const { run } = await materialize(env.pool, graph);
      expect(run.status).toBe("succeeded");
    }

    // Every authentic message is in the graph once; no badly signed one anywhere.
    const keyOf = (m: LiveMessage) => {
      const event = JSON.parse(m.body);
      return `${event.conversation_id}:${event.message.id}`;
    };
    const authentic = deliveries.filter((m) => m.kind === "event" || m.kind === "duplicate");
    const { records } = await env.neo4j.executeQuery(`MATCH (n:LiveChat_${prefix}) RETURN n.messageKey AS key`);
    expect(records.map((r) => r.get("key")).sort()).toEqual([...new Set(authentic.map(keyOf))].sort());
    const badlySigned = deliveries.filter((m) => m.kind === "bad-signature");
    expect(badlySigned.length).toBeGreaterThan(10);
    expect(badlySigned.every((m) => answers.get(m) === 401)).toBe(true);
    const stored = await env.pool.query(
      "select count(*)::int as n from ingest.webhook_deliveries where source = $1 and delivery_id = any($2::text[])",
      [prefix, badlySigned.map((m) => m.id)],
    );
    expect(stored.rows[0].n).toBe(0);
    const rejected = await env.pool.query(
      "select coalesce(sum(count), 0)::int as n from ingest.webhook_rejections where source = $1",
      [prefix],
    );
    expect(rejected.rows[0].n).toBeGreaterThanOrEqual(badlySigned.length);
    // Each malformed body is dead-lettered once (a body without an id is keyed by its hash).
    const malformed = new Set(deliveries.filter((m) => m.kind === "malformed").map((m) => m.body));
    const letters = await listDeadLetters(env.db, { assetKey: stream.key, status: "all" });
    expect(letters).toHaveLength(malformed.size);
  });

  it("a stream whose batches fail is retried with a growing pause, not five times a second", async () => {
    const project = streamProject(100, "o000003-paid");
    const events = orderLifecycles(20, seeded(1));
    expect(events.some((e) => e.eventId === "o000003-paid")).toBe(true);
    await produceAll(kafka, project.topic, events.map((e) => JSON.stringify(e)));
    project.start("daemon", "daemon");
    project.start("worker", "worker", "--concurrency", "2");
    const runs = async () =>
      (await env.pool.query<{ status: string }>(
        "select status from ingest.runs where tags ->> 'ingest/instigator' = $1 order by created_at",
        [`${project.prefix}_stream`],
      )).rows.map((r) => r.status);
    await until("three failed runs", 60_000, async () => (await runs()).filter((s) => s === "failed").length >= 3);
    const { rows } = await env.pool.query(
      "select reason from ingest.ticks where instigator = $1 and reason like 'backing off%'",
      [`${project.prefix}_stream`],
    );
    expect(rows.length).toBeGreaterThan(0);
    // Three failures take at least the pauses after the first two (1 s and 2 s): five runs a second would
    // have made fifteen by then.
    expect((await runs()).length).toBeLessThanOrEqual(4);
    // Nothing of the failed batches was staged, and the stream did not move.
    const { rows: positions } = await env.pool.query("select 1 from staging.stream_positions where stream = $1", [
      `${project.prefix}_order_events`,
    ]);
    expect(positions).toHaveLength(0);
  });
});
