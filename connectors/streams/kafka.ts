import { Consumer, Producer } from "@platformatic/kafka";
import { defineResource, type ResourceDefinition, type ResourceKind } from "../../engine/resource.ts";
import { logger } from "../../resources/logger.ts";
import { settings } from "../../resources/settings.ts";
import { type StreamBatch, type StreamSource, writePositions } from "./stream.ts";

/** A message read from a Kafka partition. */
export interface KafkaMessage {
  /** The partition it was read from. */
  partition: number;
  /** Its offset in that partition; the next message to read there is at `offset + 1n`. */
  offset: bigint;
  /** The broker's timestamp (ms since the epoch). */
  timestamp: number;
  /** Its value (the body), as sent. Messages without one (tombstones) are skipped, never returned. */
  value: Buffer;
}

/**
 * The little of Kafka the framework uses, behind one interface so the client library can change: reading a
 * topic's partitions from offsets kept elsewhere (in the staging database, with the records they produced),
 * the offsets a topic's partitions start and end at, and producing (the sample generator, tests, benchmarks).
 * {@link openKafka} makes it with `@platformatic/kafka`, a maintained pure-JavaScript client.
 */
export interface KafkaClient {
  /** The next offset of each partition (the high watermark); empty when the topic does not exist. */
  endOffsets(topic: string): Promise<Map<number, bigint>>;
  /** The first offset still kept of each partition; empty when the topic does not exist. */
  startOffsets(topic: string): Promise<Map<number, bigint>>;
  /**
   * Up to `max` messages of `topic` at or after the offsets given (one per partition to read), waiting at
   * most `waitMs` for the first; in offset order within each partition.
   */
  fetch(topic: string, from: Map<number, bigint>, max: number, waitMs: number): Promise<KafkaMessage[]>;
  /** Sends messages and resolves once the broker has them (acks from all in-sync replicas). */
  produce(topic: string, messages: { key?: string; value: Buffer | string }[]): Promise<void>;
  /** Closes its connections to the brokers (the consumer's and, once it produced, the producer's). */
  close(): Promise<void>;
}

/** The client's "Unknown topic" error, alone or among the attempts of a retried request. */
function isUnknownTopic(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { message, errors } = error as { message?: unknown; errors?: unknown };
  if (typeof message === "string" && message.startsWith("Unknown topic")) return true;
  return Array.isArray(errors) && errors.some(isUnknownTopic);
}

/** Kafka's OFFSET_OUT_OF_RANGE: what a fetch from an offset the retention has deleted gets. */
const offsetOutOfRange = 1;
/** A record batch of transaction markers, not messages. */
const controlBatch = 0x20;
const latest = -1n;
const earliest = -2n;

/**
 * Connects to Kafka (`brokers`, else `KAFKA_BROKERS`, else the local stack's broker), as `clientId` to the
 * brokers' logs. Stream assets get theirs from {@link kafkaResource}; this one is for a script, a test or a
 * producer of your own, which closes it when done.
 *
 * @example
 * ```ts
 * const kafka = openKafka();
 * try {
 *   const paid = { eventId: "e-77", type: "order.paid", orderId: "1001", paymentId: "p-9", occurredAt: "2024-05-02T10:00:00Z" };
 *   await kafka.produce("shop.order-events", [{ key: paid.orderId, value: JSON.stringify(paid) }]);
 *   console.log(await kafka.endOffsets("shop.order-events")); // Map { 0 => 1n }: each partition's next offset
 * } finally {
 *   await kafka.close();
 * }
 * ```
 */
export function openKafka(brokers: string[] = settings().kafka.brokers, clientId = "ingest-graph"): KafkaClient {
  // Never joins its group: offsets are read and kept by the framework, so any worker can read any partition.
  const consumer = new Consumer({
    clientId,
    bootstrapBrokers: brokers,
    groupId: `${clientId}-reader`,
    timeout: 10_000,
  });
  let producer: Producer | undefined;

  async function topicMetadata(topic: string) {
    try {
      const metadata = await consumer.metadata({ topics: [topic], autocreateTopics: false, retries: 1 });
      return metadata.topics.get(topic);
    } catch (error) {
      if (/unknown topic|UNKNOWN_TOPIC/i.test(String((error as Error).message) + JSON.stringify(error))) {
        return undefined;
      }
      throw error;
    }
  }

  async function offsets(topic: string, timestamp: bigint): Promise<Map<number, bigint>> {
    if (!(await topicMetadata(topic))) return new Map();
    const listed = await consumer.listOffsets({ topics: [topic], timestamp });
    return new Map((listed.get(topic) ?? []).map((offset, partition) => [partition, offset]));
  }

  async function fetchOnce(topic: string, from: Map<number, bigint>, waitMs: number): Promise<KafkaMessage[]> {
    const meta = await topicMetadata(topic);
    if (!meta || from.size === 0) return [];
    const byLeader = Map.groupBy([...from.keys()], (partition) => meta.partitions[partition]!.leader);
    const fetched = await Promise.all([...byLeader].map(async ([node, partitions]) => {
      const response = await consumer.fetch({
        node,
        maxWaitTime: waitMs,
        minBytes: 1,
        maxBytes: 16 << 20,
        isolationLevel: 0,
        topics: [{
          topicId: meta.id,
          partitions: partitions.map((partition) => ({
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: from.get(partition)!,
            lastFetchedEpoch: -1,
            partitionMaxBytes: 4 << 20,
          })),
        }],
      });
      const messages: KafkaMessage[] = [];
      for (const part of response.responses.flatMap((t) => t.partitions)) {
        const fetchOffset = from.get(part.partitionIndex)!;
        if (part.errorCode === offsetOutOfRange) {
          throw new KafkaOffsetGone(topic, part.partitionIndex, fetchOffset);
        }
        if (part.errorCode !== 0) {
          throw new Error(`Kafka refused to read ${topic}[${part.partitionIndex}] (error code ${part.errorCode})`);
        }
        for (const batch of part.records ?? []) {
          if (batch.attributes & controlBatch) continue;
          for (const record of batch.records) {
            const offset = batch.firstOffset + BigInt(record.offsetDelta);
            if (offset < fetchOffset || record.value === null) continue;
            messages.push({
              partition: part.partitionIndex,
              offset,
              timestamp: Number(batch.firstTimestamp + record.timestampDelta),
              value: record.value,
            });
          }
        }
      }
      return messages;
    }));
    return fetched.flat();
  }

  return {
    endOffsets: (topic) => offsets(topic, latest),
    startOffsets: (topic) => offsets(topic, earliest),
    async fetch(topic, from, max, waitMs) {
      const next = new Map(from);
      const messages: KafkaMessage[] = [];
      let wait = waitMs;
      while (messages.length < max) {
        const got = await fetchOnce(topic, next, wait);
        if (got.length === 0) break;
        for (const message of got) {
          if (messages.length >= max) break;
          if (message.offset !== next.get(message.partition)) continue;
          messages.push(message);
          next.set(message.partition, message.offset + 1n);
        }
        wait = 0;
      }
      return messages;
    },
    async produce(topic, messages) {
      producer ??= new Producer({ clientId, bootstrapBrokers: brokers, autocreateTopics: true, acks: -1 });
      await producer.send({
        messages: messages.map((m) => ({
          topic,
          key: m.key === undefined ? undefined : Buffer.from(m.key),
          value: typeof m.value === "string" ? Buffer.from(m.value) : m.value,
        })),
      });
    },
    async close() {
      await Promise.all([consumer.close(), producer?.close()]);
    },
  };
}

/** A fetch from an offset the topic no longer keeps (its retention deleted it before it was consumed). */
export class KafkaOffsetGone extends Error {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  constructor(topic: string, partition: number, offset: bigint) {
    super(`${topic}[${partition}] no longer holds offset ${offset}: the retention deleted it before it was consumed`);
    this.name = "KafkaOffsetGone";
    this.topic = topic;
    this.partition = partition;
    this.offset = offset;
  }
}

/** What stream assets reading Kafka receive: a {@link KafkaClient}. */
export const kafkaKind: ResourceKind & { name: "kafka" } = {
  kind: "kafka",
  name: "kafka",
  make: "kafkaResource()",
  is: (value) => typeof value === "object" && value !== null && "fetch" in value && "endOffsets" in value,
};

/**
 * A Kafka connection for stream assets: `brokers`, else `KAFKA_BROKERS`, else the local stack's broker. A
 * {@link kafkaTopic} source reads with it as the resource `kafka`.
 *
 * @example
 * ```ts
 * resources: { kafka: kafkaResource() }
 * ```
 *
 * @example
 * ```ts
 * resources: { kafka: kafkaResource(["kafka-1.internal:9092", "kafka-2.internal:9092"]) }
 * ```
 */
export function kafkaResource(brokers?: string[]): ResourceDefinition<KafkaClient> {
  return defineResource({
    kind: kafkaKind.kind,
    setup: () => openKafka(brokers),
    teardown: (kafka) => kafka.close(),
  });
}

/**
 * A Kafka topic as a stream asset's source. Offsets are kept in the staging database with the records they
 * produced (not in a consumer group), so a batch and its offset commit together and any worker may read any
 * partition. A partition never read starts at its first kept message (`startFrom: "latest"`: at its end);
 * one whose next offset the retention deleted starts again at its first kept message, with an error logged
 * naming what was lost. The project's resources must name a {@link kafkaResource} `kafka`.
 *
 * @example
 * ```ts
 * export const orderEvents = defineStreamAsset<OrderEvent, OrderStatus, { kafka: KafkaClient }>({
 *   …,
 *   table: "stream_order_events",
 *   stream: kafkaTopic({ topic: "shop.order-events" }),
 *   …
 * });
 * ```
 *
 * @example Only what is sent from the asset's first batch on, not the topic's history
 * ```ts
 * stream: kafkaTopic({ topic: "shop.clicks", startFrom: "latest" }),
 * ```
 */
export function kafkaTopic(options: {
  /** The topic: `shop.order-events`. Until it exists, batches are empty and the lag is 0. */
  topic: string;
  /**
   * Where a partition never read starts: `earliest` (default), at its first kept message, or `latest`, at
   * its end, so that only messages sent after the asset's first batch are consumed.
   */
  startFrom?: "earliest" | "latest";
}): StreamSource<{ kafka: KafkaClient }> {
  const { topic } = options;
  const name = `kafka:${topic}`;

  /** Where each partition is to be read from: the kept position, else where a partition never read starts. */
  async function startingOffsets(kafka: KafkaClient, positions: Map<string, string>): Promise<Map<number, bigint>> {
    const start = options.startFrom === "latest" ? await kafka.endOffsets(topic) : await kafka.startOffsets(topic);
    return new Map([...start].map(([partition, first]) => {
      const kept = positions.get(String(partition));
      return [partition, kept === undefined ? first : BigInt(kept)];
    }));
  }

  return {
    name,
    resources: [kafkaKind],
    async read({ kafka }, { stream, positions, max, waitMs }): Promise<StreamBatch> {
      const from = await startingOffsets(kafka, positions);
      let messages: KafkaMessage[];
      try {
        messages = await kafka.fetch(topic, from, max, waitMs);
      } catch (error) {
        if (!(error instanceof KafkaOffsetGone)) throw error;
        const first = (await kafka.startOffsets(topic)).get(error.partition)!;
        logger.error(
          { topic, partition: error.partition, from: String(error.offset), to: String(first) },
          "Kafka deleted messages before they were consumed: reading on from the first one kept",
        );
        from.set(error.partition, first);
        messages = await kafka.fetch(topic, from, max, waitMs);
      }
      const next = new Map([...from].map(([partition, offset]) => [String(partition), String(offset)]));
      for (const m of messages) next.set(String(m.partition), String(m.offset + 1n));
      return {
        messages: messages.map((m) => ({
          body: m.value,
          position: `${topic}[${m.partition}]@${m.offset}`,
          timestamp: m.timestamp,
        })),
        commitIn: (client) => writePositions(client, stream, next),
      };
    },
    async lag({ kafka }, { positions, withAge }) {
      const [from, end] = await Promise.all([startingOffsets(kafka, positions), kafka.endOffsets(topic)]);
      let messages = 0;
      for (const [partition, last] of end) messages += Math.max(0, Number(last - (from.get(partition) ?? last)));
      if (!withAge || messages === 0) return { messages, oldestAgeMs: null };
      const behind = new Map([...from].filter(([partition, offset]) => offset < (end.get(partition) ?? offset)));
      const firsts = await Promise.all(
        [...behind].map(([partition, offset]) => kafka.fetch(topic, new Map([[partition, offset]]), 1, 0)),
      );
      const oldest = Math.min(...firsts.flat().map((m) => m.timestamp));
      return { messages, oldestAgeMs: Number.isFinite(oldest) ? Math.max(0, Date.now() - oldest) : null };
    },
  };
}
