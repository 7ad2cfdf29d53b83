import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runInBatches } from "../../connectors/neo4j/index.ts";
import { type KafkaClient, openKafka, type StreamAsset } from "../../connectors/streams/index.ts";
import { streamLag } from "../../engine/automation/stream-sensor-tick.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { assetGraphOf } from "../../engine/definitions.ts";
import { ResourcePool } from "../../engine/resource.ts";
import { packageRoot } from "../../resources/settings.ts";
import { until } from "../queue-project.ts";
import {
  asSent,
  expectedStates,
  orderLifecycles,
  orderStreamDefinitions,
  produceAll,
  seeded,
} from "../stream-project.ts";
import { connect } from "../support.ts";

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
const prefix = `sf${randomUUID().slice(0, 8)}`;
const topic = `test.faults.${prefix}`;

beforeAll(async () => {
  env = await connect();
  kafka = openKafka();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await kafka?.close();
  if (env) {
    await runInBatches(
      env.neo4j,
      `MATCH (n:StreamOrder_${prefix}) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS`,
    );
    await env.close();
  }
  if (!process.env.INGEST_KEEP_TEST_FILES) rmSync(dir, { recursive: true, force: true });
});

/** `ingest <args>` in a process of its own, on the test project, its log in the test's folder. */
function start(name: string, ...args: string[]): ChildProcess {
  const definitions = join(dir, "streams.definitions.ts");
  const log = openSync(join(dir, `${name}.log`), "a");
  const child = spawn(node, [cli, "--definitions", definitions, ...args], {
    stdio: ["ignore", log, log],
    // A killed worker's job goes to another within seconds, not the default 30.
    env: { ...process.env, INGEST_HEARTBEAT_MS: "500", INGEST_WORKER_TIMEOUT_MS: "2000" },
  });
  children.push(child);
  return child;
}

describe("streams under faults", () => {
  it("a worker SIGKILLed mid-batch: another finishes, and the graph equals a clean consumption", async () => {
    writeFileSync(
      join(dir, "streams.definitions.ts"),
      `import { orderStreamDefinitions } from ${JSON.stringify(join(packageRoot, "test", "stream-project.ts"))};\n` +
        `export default orderStreamDefinitions(${JSON.stringify(prefix)}, ${
          JSON.stringify(topic)
        }, { maxMessages: 400 });\n`,
    );
    const graph = assetGraphOf(orderStreamDefinitions(prefix, topic, { maxMessages: 400 }));
    const stream = graph.byKey.get(`${prefix}/order_events`) as StreamAsset<unknown>;
    const rand = seeded(42);
    const events = orderLifecycles(4_000, rand);
    const malformed = Array.from(
      { length: 12 },
      (
        _,
        i,
      ) => (i % 2
        ? `{"eventId": "bad${i}"`
        : JSON.stringify({ eventId: `bad${i}`, type: "order.placed", orderId: `o${i}` })),
    );
    const sent = asSent(events, rand, malformed);

    start("daemon", "daemon");
    const first = start("worker-1", "worker", "--concurrency", "2");
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
    start("worker-2", "worker", "--concurrency", "2");

    await using resources = new ResourcePool(graph.definitions.resources);
    await until("the stream consumed and loaded", 120_000, async () => {
      if ((await streamLag(stream, resources, false)).messages > 0) return false;
      const { rows } = await env.pool.query(
        `select count(*)::int as n from ingest.runs where status in ('queued', 'running', 'canceling')
         and tags ->> 'ingest/instigator' = $1`,
        [`${prefix}_stream`],
      );
      return rows[0].n === 0;
    });

    const { records } = await env.neo4j.executeQuery(`MATCH (n:StreamOrder_${prefix}) RETURN n`);
    const nodes = new Map(records.map((r) => {
      const props = Object.fromEntries(
        Object.entries(r.get("n").properties as Record<string, unknown>).filter(([k]) => !k.startsWith("ingest")),
      );
      return [props.orderId as string, props];
    }));
    const expected = expectedStates(events);
    expect(nodes.size).toBe(expected.size);
    for (const [orderId, state] of expected) expect(nodes.get(orderId)).toEqual(state);
    // No order twice: the key is unique, and no node beyond the orders sent.
    const applied = await env.pool.query("select count(*)::int as n from staging.stream_events where stream = $1", [
      `${prefix}_order_events`,
    ]);
    expect(applied.rows[0].n).toBe(events.length);
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
});
