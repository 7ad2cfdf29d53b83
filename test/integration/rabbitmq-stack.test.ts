import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive } from "../../resources/local-services.ts";
import { localPorts, settings } from "../../resources/settings.ts";
import { amqpAnswers, startThrowawayRabbitmq } from "../../stack/rabbitmq.ts";
import { stackUp } from "../../stack/stack.ts";
import { freePort } from "../../stack/throwaway.ts";
import { ingest, processesWith } from "../processes.ts";
import { boundSockets } from "../sockets.ts";

type Connection = Awaited<ReturnType<typeof connect>>;

/** A connection whose loss (a broker killed under it) is no unhandled error. */
async function open(url: string): Promise<Connection> {
  const connection = await connect(url, { timeout: 5000 });
  connection.on("error", () => {});
  return connection;
}

/** Publishes `bodies` to the durable queue `queue` as persistent messages and waits for the broker's confirms. */
async function publishPersistent(connection: Connection, queue: string, bodies: string[]): Promise<void> {
  const channel = await connection.createConfirmChannel();
  await channel.assertQueue(queue, { durable: true });
  for (const body of bodies) channel.sendToQueue(queue, Buffer.from(body), { persistent: true });
  await channel.waitForConfirms();
  await channel.close();
}

/** Consumes `count` messages from `queue`, acknowledging each, and returns their bodies in delivery order. */
async function consume(connection: Connection, queue: string, count: number): Promise<string[]> {
  const channel = await connection.createChannel();
  await channel.prefetch(20);
  const bodies: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${bodies.length} of ${count} messages came`)), 30_000);
    void channel.consume(queue, (message) => {
      if (!message) return;
      bodies.push(message.content.toString());
      channel.ack(message);
      if (bodies.length === count) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await channel.close();
  return bodies;
}

const numbered = (count: number, prefix: string) => Array.from({ length: count }, (_, i) => `${prefix} ${i}`);

describe("the stack's RabbitMQ", () => {
  it("answers on 127.0.0.1 only, and gives back 100 persistent messages from a durable queue", async () => {
    const [status] = await stackUp(["rabbitmq"]);
    expect(status).toMatchObject({ name: "rabbitmq", reachable: true });
    expect(await amqpAnswers(settings().rabbitmq.url)).toBe(true);
    if (status!.managedBy === "ours") {
      expect(boundSockets(status!.pid!)).toEqual(
        [localPorts.rabbitmq, localPorts.rabbitmqDist].map((port) => `127.0.0.1:${port}`).sort(),
      );
    }

    const queue = `ingest-test-${randomBytes(4).toString("hex")}`;
    const connection = await open(settings().rabbitmq.url);
    try {
      const sent = numbered(100, "message");
      await publishPersistent(connection, queue, sent);
      expect(await consume(connection, queue, 100)).toEqual(sent);
      const channel = await connection.createChannel();
      expect((await channel.checkQueue(queue)).messageCount).toBe(0);
      await channel.deleteQueue(queue);
      await channel.close();
    } finally {
      await connection.close();
    }
  });

  it("refuses guest/guest", async () => {
    const url = new URL(settings().rabbitmq.url);
    await expect(connect(`amqp://guest:guest@${url.host}`, { timeout: 5000 })).rejects.toThrow(/ACCESS_REFUSED/);
  });
});

describe("a throwaway RabbitMQ", () => {
  it("keeps its unacknowledged persistent messages when SIGKILLed and restarted", async () => {
    const broker = await startThrowawayRabbitmq();
    try {
      // The pid is the Erlang VM's own, which listens, on loopback only.
      const sockets = boundSockets(broker.pid);
      expect(sockets).toContain(`127.0.0.1:${broker.port}`);
      expect(sockets.every((socket) => socket.startsWith("127.0.0.1:"))).toBe(true);
      const queue = "orders";
      const sent = numbered(50, "order");
      let connection = await open(broker.url);
      await publishPersistent(connection, queue, sent);
      const channel = await connection.createChannel();
      // A message that is not persistent is gone after a restart: proof the broker really came back from disk.
      channel.sendToQueue(queue, Buffer.from("transient"), { persistent: false });
      // Ten are delivered and never acknowledged; forty are never delivered.
      await channel.prefetch(10);
      let delivered = 0;
      await channel.consume(queue, () => void delivered++);
      for (const deadline = Date.now() + 10_000; delivered < 10 && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(delivered).toBe(10);

      const killed = broker.pid;
      broker.kill();
      await broker.restart();
      expect(isAlive(killed)).toBe(false);
      expect(broker.pid).not.toBe(killed);

      connection = await open(broker.url);
      try {
        const check = await connection.createChannel();
        expect((await check.checkQueue(queue)).messageCount).toBe(50);
        await check.close();
        expect(await consume(connection, queue, 50)).toEqual(sent);
      } finally {
        await connection.close();
      }
      await expect(connect(`amqp://guest:guest@127.0.0.1:${broker.port}`)).rejects.toThrow(/ACCESS_REFUSED/);
    } finally {
      await broker.stop();
    }
    expect(isAlive(broker.pid)).toBe(false);
  });
});

describe("`stack up rabbitmq` in a state folder of its own", () => {
  const stateDir = mkdtempSync(join(tmpdir(), "ingest-stack-rabbitmq-"));
  // As root the broker runs as the `rabbitmq` user, which must reach the state folder to keep its data there.
  chmodSync(stateDir, 0o755);
  let env: Record<string, string>;

  beforeAll(async () => {
    const ports = new Set<number>();
    while (ports.size < 3) ports.add(await freePort());
    const [amqp, dist, epmd] = [...ports];
    env = {
      INGEST_STATE_DIR: stateDir,
      INGEST_RABBITMQ_PORT: String(amqp),
      INGEST_RABBITMQ_DIST_PORT: String(dist),
      INGEST_RABBITMQ_EPMD_PORT: String(epmd),
    };
  });
  afterAll(() => {
    ingest(["stack", "down", "rabbitmq"], env);
    rmSync(stateDir, { recursive: true, force: true });
  });

  it("keeps everything in the state folder, and `stack down` leaves neither the broker nor its epmd", () => {
    const up = ingest(["--json", "stack", "up", "rabbitmq"], env);
    expect(up.status, up.stderr).toBe(0);
    const [status] = JSON.parse(up.stdout);
    expect(status).toMatchObject({
      name: "rabbitmq",
      reachable: true,
      managedBy: "ours",
      location: `amqp://127.0.0.1:${env.INGEST_RABBITMQ_PORT}`,
    });
    const home = join(stateDir, "rabbitmq");
    expect(statSync(join(stateDir, "secrets", "rabbitmq")).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, ".erlang.cookie")).mode & 0o777).toBe(0o600);
    const node = readFileSync(join(home, "nodename"), "utf8").trim();
    expect(existsSync(join(home, "data", node))).toBe(true);
    expect(existsSync(join(home, "log", "rabbitmq.log"))).toBe(true);
    // Only the hash of the password is on disk, beside the secret file.
    const password = readFileSync(join(stateDir, "secrets", "rabbitmq"), "utf8").trim();
    expect(readFileSync(join(home, "definitions.json"), "utf8")).not.toContain(password);
    expect(readFileSync(join(home, "rabbitmq.conf"), "utf8")).not.toContain(password);

    const epmd = processesWith(`epmd -port ${env.INGEST_RABBITMQ_EPMD_PORT} `);
    expect(epmd).toHaveLength(1);
    expect(boundSockets(status.pid)).toEqual(
      [env.INGEST_RABBITMQ_PORT, env.INGEST_RABBITMQ_DIST_PORT].map((port) => `127.0.0.1:${port}`).sort(),
    );
    expect(boundSockets(epmd[0]!)).toContain(`127.0.0.1:${env.INGEST_RABBITMQ_EPMD_PORT}`);

    expect(JSON.parse(ingest(["--json", "stack", "down", "rabbitmq"], env).stdout)).toEqual({ stopped: ["rabbitmq"] });
    expect(isAlive(status.pid)).toBe(false);
    expect(isAlive(epmd[0]!)).toBe(false);
    // The broker's VM names its home on its command line, as would any VM it started.
    expect(processesWith(`-home ${home}`)).toEqual([]);
  }, 180_000);
});
