import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from "@platformatic/kafka";
import { describe, expect, it } from "vitest";
import { localPorts, packageRoot, settings, stateDir } from "../../resources/settings.ts";
import { kafkaAnswers, startThrowawayKafka } from "../../stack/kafka.ts";
import { isAlive, runningPid } from "../../stack/process.ts";
import { boundSockets } from "../sockets.ts";

const id = randomBytes(3).toString("hex");

/** Sends `count` messages `m0`… keyed `0`… to `topic`, waiting for the broker to write each. */
async function produce(brokers: string[], topic: string, count: number): Promise<void> {
  const producer = new Producer({
    clientId: `kafka-stack-test-${id}`,
    bootstrapBrokers: brokers,
    serializers: stringSerializers,
    autocreateTopics: true,
  });
  try {
    await producer.send({
      messages: Array.from({ length: count }, (_, i) => ({ topic, key: String(i), value: `m${i}` })),
      acks: -1,
    });
  } finally {
    await producer.close();
  }
}

/** Reads `count` messages of `topic` from its start, as `key=value`. */
async function consume(brokers: string[], topic: string, count: number): Promise<string[]> {
  const consumer = new Consumer({
    clientId: `kafka-stack-test-${id}`,
    groupId: `kafka-stack-test-${topic}`,
    bootstrapBrokers: brokers,
    deserializers: stringDeserializers,
  });
  const read: string[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false, maxWaitTime: 500 });
    try {
      for await (const message of stream) {
        read.push(`${message.key}=${message.value}`);
        if (read.length === count) break;
      }
    } finally {
      await stream.close();
    }
  } finally {
    await consumer.close();
  }
  return read;
}

const expected = (count: number) => Array.from({ length: count }, (_, i) => `${i}=m${i}`);

describe("the stack's Kafka", () => {
  const brokers = settings().kafka.brokers;

  it("answers, on 127.0.0.1 only", async () => {
    expect(await kafkaAnswers(brokers)).toBe(true);
    const pid = runningPid("kafka");
    if (settings().kafka.external || pid === undefined) return; // not ours: where it listens is not ours to say
    expect(boundSockets(pid)).toEqual(
      [`127.0.0.1:${localPorts.kafka}`, `127.0.0.1:${localPorts.kafkaController}`].sort(),
    );
  });

  it("takes 100 messages on a new topic and gives them back in order", async () => {
    const topic = `ingest-test-${id}`;
    const admin = new Admin({ clientId: `kafka-stack-test-${id}`, bootstrapBrokers: brokers });
    try {
      expect(await admin.listTopics()).not.toContain(topic);
      await produce(brokers, topic, 100);
      // auto.create.topics.enable made it, with the stack's one partition.
      const metadata = await admin.metadata({ topics: [topic] });
      expect(metadata.topics.get(topic)?.partitionsCount).toBe(1);
      expect(await consume(brokers, topic, 100)).toEqual(expected(100));
    } finally {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.close();
    }
  });

  it("is reached by the same client under Deno", () => {
    const topic = `ingest-test-deno-${id}`;
    const script = `
      import { Consumer, Producer, stringDeserializers, stringSerializers } from "@platformatic/kafka";
      const brokers = ${JSON.stringify(brokers)};
      const producer = new Producer({ clientId: "deno", bootstrapBrokers: brokers, serializers: stringSerializers, autocreateTopics: true });
      await producer.send({ messages: [{ topic: "${topic}", key: "k", value: "from deno" }] });
      await producer.close();
      const consumer = new Consumer({ clientId: "deno", groupId: "${topic}", bootstrapBrokers: brokers, deserializers: stringDeserializers });
      const stream = await consumer.consume({ topics: ["${topic}"], mode: "earliest", autocommit: false });
      for await (const message of stream) { console.log(message.key + "=" + message.value); break; }
      await stream.close();
      await consumer.close();
    `;
    const deno = join(packageRoot, "node_modules", ".bin", "deno");
    const result = spawnSync(deno, ["eval", "--ext=ts", script], {
      cwd: packageRoot,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe("k=from deno");
  });
});

describe("a throwaway Kafka", () => {
  it("keeps its messages through a SIGKILL and a restart on the same port", async () => {
    const kafka = await startThrowawayKafka();
    // The broker's last argument is its server.properties, in its home.
    const home = dirname(readFileSync(`/proc/${kafka.pid}/cmdline`, "utf8").split("\0").filter(Boolean).at(-1)!);
    try {
      expect(home.startsWith(join(stateDir, "throwaway", "kafka-"))).toBe(true);
      expect(kafka.brokers).toHaveLength(1);
      expect(boundSockets(kafka.pid)).toContain(kafka.brokers[0]);
      const topic = `crash-${id}`;
      await produce(kafka.brokers, topic, 100);

      const killed = kafka.pid;
      kafka.kill();
      const deadline = Date.now() + 10_000;
      while (isAlive(killed) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(isAlive(killed)).toBe(false);
      expect(await kafkaAnswers(kafka.brokers)).toBe(false);

      await kafka.restart();
      expect(kafka.pid).not.toBe(killed);
      expect(await consume(kafka.brokers, topic, 100)).toEqual(expected(100));
      // And it takes new ones after its recovery.
      await produce(kafka.brokers, `${topic}-after`, 1);
      expect(await consume(kafka.brokers, `${topic}-after`, 1)).toEqual(["0=m0"]);
    } finally {
      await kafka.stop();
    }
    expect(await kafkaAnswers(kafka.brokers)).toBe(false);
    expect(existsSync(home)).toBe(false);
  });
});
