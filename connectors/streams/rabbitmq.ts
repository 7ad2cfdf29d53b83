import amqp from "amqplib";
import { defineResource, type ResourceDefinition, type ResourceKind } from "../../engine/resource.ts";
import { settings } from "../../resources/settings.ts";
import type { StreamBatch, StreamMessage, StreamSource } from "./stream.ts";

/**
 * A RabbitMQ connection that comes back: opened on first use and again after the broker closed it (a
 * restart), so a worker outlives its broker. Made by {@link rabbitmqResource} for stream assets; make one
 * yourself to publish from a script or a test, and close it when done.
 *
 * @example
 * ```ts
 * const rabbitmq = new RabbitMq(settings().rabbitmq.url);
 * try {
 *   const update = { eventId: "s-501", sku: "SKU-1042", warehouse: "berlin", onHand: 12, occurredAt: "2024-05-02T10:00:00Z" };
 *   await rabbitmq.publish("inventory.stock", [JSON.stringify(update)]);
 * } finally {
 *   await rabbitmq.close();
 * }
 * ```
 */
export class RabbitMq {
  /** The broker's AMQP URL (`amqp://user:password@host:5672/vhost`), password included. */
  readonly url: string;
  #connection: Promise<amqp.ChannelModel> | undefined;

  /** Connects to nothing yet: the connection is opened on first use. */
  constructor(url: string) {
    this.url = url;
  }

  /** The open connection, connecting when there is none. */
  connection(): Promise<amqp.ChannelModel> {
    if (!this.#connection) {
      const opening = amqp.connect(this.url, { timeout: 10_000 });
      this.#connection = opening;
      opening.then(
        (connection) => {
          const forget = () => {
            if (this.#connection === opening) this.#connection = undefined;
          };
          connection.on("close", forget);
          connection.on("error", forget);
        },
        () => {
          if (this.#connection === opening) this.#connection = undefined;
        },
      );
    }
    return this.#connection;
  }

  /** Publishes persistent messages to a durable queue, resolving once the broker confirmed them all. */
  async publish(queue: string, bodies: (Buffer | string)[]): Promise<void> {
    const channel = await (await this.connection()).createConfirmChannel();
    try {
      await channel.assertQueue(queue, { durable: true });
      const now = Math.floor(Date.now() / 1000);
      for (const body of bodies) {
        channel.sendToQueue(queue, typeof body === "string" ? Buffer.from(body) : body, {
          persistent: true,
          timestamp: now,
          contentType: "application/json",
        });
      }
      await channel.waitForConfirms();
    } finally {
      await channel.close().catch(() => {});
    }
  }

  /** Closes the connection, if one is open; a later use opens a new one. */
  async close(): Promise<void> {
    const connection = await this.#connection?.catch(() => undefined);
    this.#connection = undefined;
    await connection?.close().catch(() => {});
  }
}

/** What stream assets reading RabbitMQ receive: a {@link RabbitMq}. */
export const rabbitmqKind: ResourceKind & { name: "rabbitmq" } = {
  kind: "rabbitmq",
  name: "rabbitmq",
  make: "rabbitmqResource()",
  is: (value) => value instanceof RabbitMq,
};

/**
 * A RabbitMQ connection for stream assets: `url`, else `RABBITMQ_URL`, else the local stack's broker. A
 * {@link rabbitmqQueue} source reads with it as the resource `rabbitmq`.
 *
 * @example
 * ```ts
 * resources: { rabbitmq: rabbitmqResource() }
 * ```
 *
 * @example
 * ```ts
 * resources: { rabbitmq: rabbitmqResource("amqps://ingest:secret@mq.internal:5671/warehouse") }
 * ```
 */
export function rabbitmqResource(url?: string): ResourceDefinition<RabbitMq> {
  return defineResource({
    kind: rabbitmqKind.kind,
    setup: () => new RabbitMq(url ?? settings().rabbitmq.url),
    teardown: (rabbitmq) => rabbitmq.close(),
  });
}

/** How long a batch goes on collecting once its first message came and no other follows. */
const quietMs = 15;

/**
 * A durable RabbitMQ queue as a stream asset's source. Each batch takes up to `max` messages on a channel of
 * its own (prefetch `max`), and acknowledges them once their records are staged: a crash before that leaves
 * them unacknowledged, and the broker delivers them again (at-least-once), to be found applied. A
 * batch that fails closes its channel, which gives its messages back to the queue. The project's resources
 * must name a {@link rabbitmqResource} `rabbitmq`.
 *
 * @example
 * ```ts
 * export const stockUpdates = defineStreamAsset<StockUpdate, StockUpdate, { rabbitmq: RabbitMq }>({
 *   …,
 *   table: "stream_stock_updates",
 *   stream: rabbitmqQueue({ queue: "inventory.stock" }),
 *   …
 * });
 * ```
 */
export function rabbitmqQueue(options: {
  /** The queue: `inventory.stock`. It is declared durable when it does not exist yet. */
  queue: string;
}): StreamSource<{ rabbitmq: RabbitMq }> {
  const { queue } = options;
  return {
    name: `rabbitmq:${queue}`,
    resources: [rabbitmqKind],
    async read({ rabbitmq }, { max, waitMs }): Promise<StreamBatch> {
      const channel = await (await rabbitmq.connection()).createChannel();
      // A channel closed by the broker is seen by the batch's acknowledge or release, which then fail or no-op.
      channel.on("error", () => {});
      const received: amqp.ConsumeMessage[] = [];
      let consumerTag: string | undefined;
      try {
        await channel.assertQueue(queue, { durable: true });
        // AMQP's prefetch count is 16 bits: a larger batch takes what that many unacknowledged allow.
        await channel.prefetch(Math.min(max, 65_535));
        await new Promise<void>((resolve, reject) => {
          let timer = setTimeout(resolve, waitMs);
          channel.consume(queue, (message) => {
            if (message === null) return reject(new Error(`RabbitMQ cancelled the consumer of ${queue}`));
            received.push(message);
            clearTimeout(timer);
            timer = setTimeout(resolve, received.length >= max ? 0 : quietMs);
          }, { noAck: false }).then((ok) => (consumerTag = ok.consumerTag), reject);
        });
        if (consumerTag) await channel.cancel(consumerTag);
      } catch (error) {
        await channel.close().catch(() => {});
        throw error;
      }
      const messages: StreamMessage[] = received.map((m) => ({
        body: m.content,
        position: `${queue}#${m.fields.deliveryTag}${m.fields.redelivered ? " (redelivered)" : ""}`,
        timestamp: m.properties.timestamp === undefined ? undefined : Number(m.properties.timestamp) * 1000,
      }));
      return {
        messages,
        async acknowledge() {
          if (received.length > 0) channel.ack(received.at(-1)!, true);
          await channel.close();
        },
        release: () => channel.close().catch(() => {}),
      };
    },
    async lag({ rabbitmq }, { withAge }) {
      const channel = await (await rabbitmq.connection()).createChannel();
      channel.on("error", () => {});
      try {
        const { messageCount } = await channel.assertQueue(queue, { durable: true });
        if (!withAge || messageCount === 0) return { messages: messageCount, oldestAgeMs: null };
        // A look at the head of the queue, given straight back: RabbitMQ puts it back where it was.
        const head = await channel.get(queue, { noAck: false });
        if (head === false) return { messages: messageCount, oldestAgeMs: null };
        channel.nack(head, false, true);
        const sent = head.properties.timestamp;
        return {
          messages: messageCount,
          oldestAgeMs: sent === undefined ? null : Math.max(0, Date.now() - Number(sent) * 1000),
        };
      } finally {
        await channel.close().catch(() => {});
      }
    },
  };
}
