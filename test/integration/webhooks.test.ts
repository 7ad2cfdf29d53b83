import { type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Agent, request } from "node:http";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  defineWebhookSource,
  serveWebhooks,
  signDelivery,
  webhookApp,
  WebhookDeliveries,
  type WebhookServer,
} from "../../connectors/webhooks/index.ts";
import { prepareDatabase } from "../../engine/worker.ts";
import { createPool, type pg } from "../../resources/postgres.ts";
import { packageRoot, settings } from "../../resources/settings.ts";
import { exitOf, startUntil } from "../processes.ts";

/**
 * The webhook receiver against the stack's Postgres: signed deliveries of both schemes stored once each
 * and answered 202 only when committed; refusals (401, 413, 404) counted and never stored; 503 while the
 * database is unreachable; a graceful close that answers what is in flight; and a receiver in a process
 * of its own, SIGKILLed in the middle of a burst, that lost no delivery it had acknowledged.
 */
const id = randomBytes(3).toString("hex");
const secret = `whsec_${randomBytes(12).toString("hex")}`;
const rotated = `whsec_${randomBytes(12).toString("hex")}`;
const payments = defineWebhookSource({ name: `wh${id}_pay`, scheme: "stripe", secrets: () => [secret, rotated] });
const chat = defineWebhookSource({ name: `wh${id}_chat`, scheme: "zendesk", secrets: () => [secret] });
const small = defineWebhookSource({
  name: `wh${id}_small`,
  scheme: "stripe",
  secrets: () => [secret],
  maxBodyBytes: 64,
});

let pool: pg.Pool;
let deliveries: WebhookDeliveries;
let server: WebhookServer;

beforeAll(async () => {
  pool = createPool(settings().databaseUrl);
  await prepareDatabase(pool);
  deliveries = new WebhookDeliveries(pool);
  server = await serveWebhooks({ pool, sources: [payments, chat, small], port: 0 });
});

afterAll(async () => {
  await server?.close();
  await pool.query("delete from ingest.webhook_deliveries where source like $1", [`wh${id}%`]);
  await pool.query("delete from ingest.webhook_rejections where source like $1", [`wh${id}%`]);
  await pool.end();
});

const post = (source: string, body: string | Uint8Array, headers: Record<string, string>, base = server.url) =>
  fetch(`${base}/webhooks/${source}`, { method: "POST", body, headers });

const rowsOf = async (source: string) =>
  (await pool.query<{ delivery_id: string; content_type: string | null; body: Buffer }>(
    "select delivery_id, content_type, body from ingest.webhook_deliveries where source = $1 order by id",
    [source],
  )).rows;

const rejected = async (source: string) =>
  Object.fromEntries((await deliveries.rejections(source)).map((r) => [r.reason, r.count]));

describe("the webhook receiver", () => {
  it("stores a signed delivery before answering 202, and a retry of it once", async () => {
    const body = JSON.stringify({ id: "evt_1", type: "charge.succeeded" });
    const headers = { "content-type": "application/json", "x-delivery-id": "evt_1" };
    const first = await post(payments.name, body, { ...headers, ...signDelivery(payments, secret, body) });
    expect(first.status).toBe(202);
    const answer = await first.json() as { id: string; deliveryId: string; duplicate: boolean };
    expect(answer).toMatchObject({ deliveryId: "evt_1", duplicate: false });
    expect(answer.id).toMatch(/^\d+$/);
    // The sender's retry, signed again later with the rotated secret: the same delivery, not stored again.
    const retry = await post(payments.name, body, { ...headers, ...signDelivery(payments, rotated, body) });
    expect(retry.status).toBe(202);
    expect(await retry.json()).toEqual({ id: answer.id, deliveryId: "evt_1", duplicate: true });
    const rows = await rowsOf(payments.name);
    expect(rows.map((r) => [r.delivery_id, r.content_type, r.body.toString()])).toEqual([
      ["evt_1", "application/json", body],
    ]);
  });

  it("takes the delivery id from X-Zendesk-Webhook-Id or Idempotency-Key, else the body's sha256", async () => {
    const body = '{"event":"x"}';
    const signed = () => signDelivery(payments, secret, body);
    expect((await post(payments.name, body, { "idempotency-key": "idem-7", ...signed() })).status).toBe(202);
    for (let i = 0; i < 2; i++) expect((await post(payments.name, body, signed())).status).toBe(202);
    const ids = (await rowsOf(payments.name)).map((r) => r.delivery_id);
    expect(ids).toContain("idem-7");
    expect(ids.filter((d) => d.startsWith("sha256:"))).toHaveLength(1);
  });

  it("accepts several v1 signatures, one of which matches", async () => {
    const body = "{}";
    const { "x-webhook-signature": good } = signDelivery(payments, secret, body);
    const [t, v1] = good!.split(",");
    const header = `${t},v1=${"0".repeat(64)},${v1}`;
    const response = await post(payments.name, body, { "x-delivery-id": "multi", "x-webhook-signature": header });
    expect(response.status).toBe(202);
  });

  it("verifies Zendesk's scheme, and keeps a body that is not JSON with its content type", async () => {
    const body = "ticket=42&status=solved\xff";
    const headers = { "content-type": "application/x-www-form-urlencoded", "x-zendesk-webhook-id": "01HZ-abc" };
    const response = await post(chat.name, body, { ...headers, ...signDelivery(chat, secret, body) });
    expect(response.status).toBe(202);
    expect((await rowsOf(chat.name)).map((r) => [r.delivery_id, r.content_type, r.body.toString()])).toEqual([
      ["01HZ-abc", "application/x-www-form-urlencoded", body],
    ]);
    const stale = signDelivery(chat, secret, body, new Date(Date.now() - 301_000));
    expect((await post(chat.name, body, { ...headers, "x-zendesk-webhook-id": "old", ...stale })).status).toBe(401);
    const forged = signDelivery(chat, "not the secret", body);
    expect((await post(chat.name, body, { ...headers, "x-zendesk-webhook-id": "forged", ...forged })).status).toBe(401);
    expect(await rejected(chat.name)).toEqual({ stale_timestamp: 1, bad_signature: 1 });
    expect((await rowsOf(chat.name)).map((r) => r.delivery_id)).toEqual(["01HZ-abc"]);
  });

  it("refuses a bad or missing signature and a stale timestamp with 401, counted, storing nothing", async () => {
    const source = small.name;
    const body = '{"id":"evt_bad"}';
    const cases: [string, Record<string, string>][] = [
      ["wrong secret", signDelivery(small, "guessed", body)],
      ["body changed", signDelivery(small, secret, '{"id":"evt_other"}')],
      ["missing header", {}],
      ["malformed header", { "x-webhook-signature": "v1=abc" }],
      ["stale timestamp", signDelivery(small, secret, body, new Date(Date.now() - 600_000))],
      ["from the future", signDelivery(small, secret, body, new Date(Date.now() + 600_000))],
    ];
    for (const [what, headers] of cases) {
      const response = await post(source, body, { "x-delivery-id": "evt_bad", ...headers });
      expect(response.status, what).toBe(401);
      expect(await response.json(), what).toMatchObject({ error: "unauthorized" });
    }
    expect(await rejected(source)).toEqual({
      bad_signature: 2,
      missing_signature: 1,
      malformed_signature: 1,
      stale_timestamp: 2,
    });
    expect(await rowsOf(source)).toEqual([]);
  });

  it("refuses a body over the limit with 413, by Content-Length or as it streams, storing nothing", async () => {
    const body = "x".repeat(65);
    const byLength = await post(small.name, body, signDelivery(small, secret, body));
    expect(byLength.status).toBe(413);
    // Chunked, without Content-Length: 2 MiB sent, refused once 64 bytes are passed.
    const big = new Uint8Array(2 * 1024 * 1024);
    const streamed = await fetch(`${server.url}/webhooks/${small.name}`, {
      method: "POST",
      body: new ReadableStream({
        start(controller) {
          for (let offset = 0; offset < big.length; offset += 32 * 1024) {
            controller.enqueue(big.subarray(offset, offset + 32 * 1024));
          }
          controller.close();
        },
      }),
      duplex: "half",
      headers: signDelivery(small, secret, big),
    } as RequestInit);
    expect(streamed.status).toBe(413);
    const exactly = "y".repeat(64);
    expect((await post(small.name, exactly, signDelivery(small, secret, exactly))).status).toBe(202);
    expect((await rejected(small.name)).too_large).toBe(2);
    expect((await rowsOf(small.name)).map((r) => r.body.toString())).toEqual([exactly]);
  });

  it("answers 404 for a source it does not serve, and 200 at /webhooks/health", async () => {
    const body = "{}";
    expect((await post(`wh${id}_nobody`, body, signDelivery("stripe", secret, body))).status).toBe(404);
    expect(await deliveries.rejections(`wh${id}_nobody`)).toEqual([]);
    const health = await fetch(`${server.url}/webhooks/health`);
    expect(health.status).toBe(200);
  });

  it("answers 503 with Retry-After, never 2xx, while the database cannot be reached", async () => {
    // Nothing listens on port 1: every connection is refused.
    const down = createPool("postgres://nobody:nothing@127.0.0.1:1/ingest", 2);
    try {
      const app = webhookApp({ pool: down, sources: [payments] });
      const body = '{"id":"evt_down"}';
      const response = await app.request(`/webhooks/${payments.name}`, {
        method: "POST",
        body,
        headers: { "x-delivery-id": "evt_down", ...signDelivery(payments, secret, body) },
      });
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      // A refusal is still a refusal when it cannot be counted.
      const forged = await app.request(`/webhooks/${payments.name}`, {
        method: "POST",
        body,
        headers: signDelivery(payments, "forged", body),
      });
      expect(forged.status).toBe(401);
    } finally {
      await down.end();
    }
  });

  it("answers 503 when the database does not answer in time", async () => {
    // A server that takes connections and never says a word: a database that hangs.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const hung = createPool(`postgres://nobody:nothing@127.0.0.1:${(silent.address() as AddressInfo).port}/ingest`, 1);
    try {
      const app = webhookApp({ pool: hung, sources: [payments], storeTimeoutMs: 300 });
      const body = '{"id":"evt_hung"}';
      const started = Date.now();
      const response = await app.request(`/webhooks/${payments.name}`, {
        method: "POST",
        body,
        headers: { "x-delivery-id": "evt_hung", ...signDelivery(payments, secret, body) },
      });
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
      await hung.end().catch(() => {});
    }
  });

  it("on close, answers the requests in flight before it stops", async () => {
    const own = await serveWebhooks({ pool, sources: [payments], port: 0 });
    const body = '{"id":"evt_inflight"}';
    const headers = { "x-delivery-id": "evt_inflight", ...signDelivery(payments, secret, body) };
    const socket = connect(Number(new URL(own.url).port), "127.0.0.1");
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk.toString()));
    const ended = new Promise((resolve) => socket.on("close", resolve));
    await new Promise((resolve) => socket.once("connect", resolve));
    // Headers and half the body, then close() is called, then the rest of the body.
    socket.write(
      `POST /webhooks/${payments.name} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${
        Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")
      }\r\n${body.slice(0, 5)}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = own.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.write(body.slice(5));
    await closing;
    await ended;
    expect(answer).toMatch(/^HTTP\/1\.1 202 /);
    expect(answer.toLowerCase()).toContain("connection: close");
    expect((await rowsOf(payments.name)).map((r) => r.delivery_id)).toContain("evt_inflight");
    await expect(fetch(`${own.url}/webhooks/health`)).rejects.toThrow();
  });
});

describe("WebhookDeliveries", () => {
  it("reads unconsumed deliveries in order and marks them consumed in the caller's transaction", async () => {
    const source = chat.name;
    for (const n of [1, 2, 3]) {
      await deliveries.append({
        source,
        deliveryId: `m${n}`,
        contentType: "application/json",
        body: Buffer.from(`{"n":${n}}`),
      });
    }
    const waiting = await deliveries.unconsumed(source, 10);
    expect(waiting.map((d) => d.deliveryId)).toEqual(["01HZ-abc", "m1", "m2", "m3"]);
    expect(waiting[1]!.body.toString()).toBe('{"n":1}');
    expect(waiting[1]!.receivedAt).toBeInstanceOf(Date);
    expect(typeof waiting[1]!.id).toBe("string");
    const lag = await deliveries.lag(source);
    expect(lag.messages).toBe(4);
    expect(lag.oldestAgeMs).toBeGreaterThanOrEqual(0);

    const client = await pool.connect();
    try {
      const ids = (await deliveries.unconsumed(source, 2)).map((d) => d.id);
      await client.query("begin");
      expect(await deliveries.markConsumed(client, ids)).toBe(2);
      await client.query("rollback");
      expect((await deliveries.lag(source)).messages).toBe(4);

      await client.query("begin");
      const batch = await deliveries.unconsumed(source, 2, client);
      // A second consumer, in its own transaction, skips the rows the first holds.
      const other = await pool.connect();
      try {
        await other.query("begin");
        expect((await deliveries.unconsumed(source, 10, other)).map((d) => d.deliveryId)).toEqual(["m2", "m3"]);
        await other.query("rollback");
      } finally {
        other.release();
      }
      expect(await deliveries.markConsumed(client, batch.map((d) => d.id))).toBe(2);
      await client.query("commit");
    } finally {
      client.release();
    }
    expect((await deliveries.unconsumed(source, 10)).map((d) => d.deliveryId)).toEqual(["m2", "m3"]);
    expect((await deliveries.lag(source)).messages).toBe(2);
    expect(await deliveries.lag(`wh${id}_empty`)).toEqual({ messages: 0, oldestAgeMs: null });

    await pool.query(
      "update ingest.webhook_deliveries set consumed_at = now() - interval '2 hours' where source = $1 and delivery_id = 'm1'",
      [source],
    );
    const purged = await deliveries.purgeConsumed(60 * 60 * 1000);
    expect(purged).toBeGreaterThanOrEqual(1);
    expect((await rowsOf(source)).map((r) => r.delivery_id)).toEqual(["01HZ-abc", "m2", "m3"]);
  });
});

describe("a receiver killed in the middle of a burst", () => {
  const node = join(packageRoot, "node_modules", ".bin", "node");
  const cli = join(packageRoot, "cli", "main.ts");
  const project = mkdtempSync(join(tmpdir(), "ingest-webhooks-project-"));
  const crash = `wh${id}_crash`;
  const children: ChildProcess[] = [];
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    mkdirSync(join(project, "node_modules"));
    symlinkSync(packageRoot, join(project, "node_modules", "ingest-graph"));
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "webhooks-project", type: "module" }));
    writeFileSync(
      join(project, "definitions.ts"),
      `import { defineDefinitions, defineWebhookSource, envSecret } from "ingest-graph";

export default defineDefinitions({
  assets: [],
  resources: {},
  webhookSources: [
    defineWebhookSource({ name: ${
        JSON.stringify(crash)
      }, scheme: "stripe", secrets: () => [envSecret("WEBHOOK_SECRET_CRASH")] }),
  ],
});
`,
    );
    env = {
      ...process.env,
      DATABASE_URL: settings().databaseUrl,
      INGEST_PROJECT_DIR: project,
      WEBHOOK_SECRET_CRASH: secret,
      LOG_LEVEL: "warn",
    };
    delete env.INGEST_DEFINITIONS;
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(project, { recursive: true, force: true });
  });

  const start = async () => {
    const started = await startUntil(`exec ${node} ${cli} webhooks --port 0`, {
      cwd: project,
      env,
      ready: /webhooks listening on (http:\/\/\S+)/,
    });
    children.push(started.child);
    return { child: started.child, url: /webhooks listening on (http:\/\/\S+)/.exec(started.output())![1]! };
  };

  /** POSTs one signed delivery over `agent`: its status, or an error when the connection failed. */
  const deliver = (url: string, agent: Agent, deliveryId: string) =>
    new Promise<number>((resolve, reject) => {
      const body = JSON.stringify({ id: deliveryId, type: "charge.succeeded", padding: "p".repeat(512) });
      const req = request(`${url}/webhooks/${crash}`, {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "x-delivery-id": deliveryId,
          ...signDelivery("stripe", secret, body),
        },
      }, (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode!));
        response.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });

  it("has stored every delivery it acknowledged, and a retry of the others stores each once", async () => {
    const total = 2000;
    const ids = Array.from({ length: total }, (_, n) => `evt_${n}`);
    const first = await start();
    const agent = new Agent({ keepAlive: true, maxSockets: 200 });
    const acknowledged = new Set<string>();
    let failed = 0;
    await Promise.all(ids.map(async (deliveryId) => {
      try {
        const status = await deliver(first.url, agent, deliveryId);
        if (status >= 200 && status < 300) {
          acknowledged.add(deliveryId);
          // Killed without warning once a quarter is acknowledged: the rest is in flight or not sent yet.
          if (acknowledged.size === total / 4) first.child.kill("SIGKILL");
        } else failed++;
      } catch {
        failed++;
      }
    }));
    agent.destroy();
    expect(await exitOf(first.child)).toBeNull();
    expect(first.child.signalCode).toBe("SIGKILL");
    expect(acknowledged.size).toBeGreaterThanOrEqual(total / 4);
    expect(acknowledged.size + failed).toBe(total);
    expect(failed).toBeGreaterThan(0);

    const stored = async () =>
      (await pool.query<{ delivery_id: string }>(
        "select delivery_id from ingest.webhook_deliveries where source = $1",
        [crash],
      )).rows.map((r) => r.delivery_id);
    const afterCrash = await stored();
    const missing = [...acknowledged].filter((deliveryId) => !afterCrash.includes(deliveryId));
    expect(missing).toEqual([]);
    expect(new Set(afterCrash).size).toBe(afterCrash.length);

    // The senders retry what was not acknowledged (some of it was stored before the kill) against a new receiver.
    const second = await start();
    const retryAgent = new Agent({ keepAlive: true, maxSockets: 50 });
    const retried = await Promise.all(
      ids.filter((deliveryId) => !acknowledged.has(deliveryId)).map((deliveryId) =>
        deliver(second.url, retryAgent, deliveryId)
      ),
    );
    retryAgent.destroy();
    expect(retried.every((status) => status === 202)).toBe(true);
    const final = await stored();
    expect(final.length).toBe(total);
    expect(new Set(final)).toEqual(new Set(ids));

    second.child.kill("SIGTERM");
    expect(await exitOf(second.child)).toBe(0);
  });
});
