/**
 * The projects `bench/streams.ts` measures, in a module of their own so the `ingest worker` and `ingest daemon`
 * processes it starts load them too (`--definitions` a generated module calling {@link streamProject}).
 * Both build the bundled `graph/OrderStatus` from the bundled order events (`assets/ec/order-events.ts`: its
 * model and fold), under names of their own.
 */
import { z } from "zod";
import { foldOrderStatus, OrderEvent, type OrderStatus } from "../assets/ec/order-events.ts";
import { defineNodeAsset, neo4jResource } from "../connectors/neo4j/index.ts";
import { postgresResource, readTable } from "../connectors/postgres/index.ts";
import { defineStagedAsset, type StagedAsset, stagingResource } from "../connectors/staging/index.ts";
import { defineStreamAsset, type KafkaClient, kafkaResource, kafkaTopic } from "../connectors/streams/index.ts";
import { defineStreamSensor } from "../engine/automation/index.ts";
import { defineDefinitions, type Definitions } from "../engine/definitions.ts";
import type { pg } from "../resources/postgres.ts";

/** `graph/OrderStatus` as bundled (same properties and index), under a key and label of its own. */
function orderStatusNodes(name: string, label: string, from: StagedAsset<OrderStatus>) {
  return defineNodeAsset<OrderStatus>({
    key: `${name}/OrderStatus`,
    codeVersion: "1",
    label,
    keyProperty: "orderId",
    indexes: ["status"],
    from,
    properties: ({ eventIds: _, ...status }) => status,
  });
}

export interface StreamProjectOptions {
  /** Asset keys start `<name>/`, the staging table is `<name>_order_events` (letters, digits, `_`). */
  name: string;
  /** The nodes' label. */
  label: string;
  topic: string;
  /** The stream asset's `batch.maxMessages` (default: the stream asset's own, 5,000, and 100,000 in a backlog). */
  maxMessages?: number;
  maxWaitMs?: number;
  /** With a stream sensor of this name over the stream asset. */
  sensor?: string;
  /** The staging database (default `DATABASE_URL`). */
  databaseUrl?: string;
}

/** `stream/order_events` → `graph/OrderStatus` over a topic of its own, as bundled but for the batch. */
export function streamProject(options: StreamProjectOptions): Definitions {
  const events = defineStreamAsset<OrderEvent, OrderStatus, { kafka: KafkaClient }>({
    key: `${options.name}/order_events`,
    codeVersion: "1",
    table: `${options.name}_order_events`,
    stream: kafkaTopic({ topic: options.topic }),
    model: OrderEvent,
    eventId: (e) => e.eventId,
    sourceKey: (e) => e.orderId,
    rawKey: (raw) => raw.orderId,
    fold: foldOrderStatus,
    batch: { maxMessages: options.maxMessages, maxWaitMs: options.maxWaitMs },
  });
  return defineDefinitions({
    assets: [events, orderStatusNodes(options.name, options.label, events)],
    resources: {
      staging: stagingResource(options.databaseUrl),
      kafka: kafkaResource(),
      neo4j: neo4jResource(),
    },
    sensors: options.sensor ? [defineStreamSensor({ name: options.sensor, streams: events.key })] : [],
  });
}

/**
 * The events of a table (`seq`, `order_id`, `body` jsonb: the Kafka messages' JSON) read in order id order,
 * each parsed with the stream asset's model and folded with its fold: one record per order, as the stream
 * asset stages it once all its events are consumed.
 */
async function* foldedByOrder(rows: AsyncIterable<{ body: unknown }>): AsyncGenerator<OrderStatus> {
  let state: OrderStatus | undefined;
  for await (const { body } of rows) {
    const event = OrderEvent.parse(body);
    if (state && state.orderId !== event.orderId) {
      yield state;
      state = undefined;
    }
    state = foldOrderStatus(state, event);
  }
  if (state) yield state;
}

export interface TableProjectOptions {
  name: string;
  label: string;
  /** The database holding `table`. */
  sourceUrl: string;
  /** `schema.table` of the events. */
  table: string;
  databaseUrl?: string;
}

/**
 * The same graph from a Postgres table of the same events: an ordinary staged asset reading it with
 * `readTable` (sorted by order id, so each order's events come together and fold in bounded memory) and the
 * same node asset. The events were validated by `OrderEvent` as they were folded, so the staged model only
 * passes the folded record on, as the stream asset stages its folded records without a second model.
 */
export function tableProject(options: TableProjectOptions): Definitions {
  const staged = defineStagedAsset<OrderStatus, { events: pg.Pool }>({
    key: `${options.name}/order_status`,
    codeVersion: "1",
    table: `${options.name}_order_status`,
    source: options.table,
    model: z.custom<OrderStatus>((value) => typeof value === "object" && value !== null),
    sourceKey: (s) => s.orderId,
    rawKey: (raw) => raw.orderId,
    resources: ["events"],
    extract: ({ resources: { events } }) =>
      foldedByOrder(
        readTable<{ body: unknown }>(events, `select body from ${options.table} order by order_id, seq`, [], {
          batchSize: 5_000,
        }),
      ),
  });
  return defineDefinitions({
    assets: [staged, orderStatusNodes(options.name, options.label, staged)],
    resources: {
      staging: stagingResource(options.databaseUrl),
      events: postgresResource(options.sourceUrl),
      neo4j: neo4jResource(),
    },
  });
}
