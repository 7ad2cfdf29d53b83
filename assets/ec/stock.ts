/**
 * Stock updates from the warehouse system over RabbitMQ (queue `inventory.stock`): each says how many of a
 * sku a warehouse holds, as of a time. Updates come late and twice; the latest by time wins, whatever the
 * order they came in, as one `:StockLevel` per sku and warehouse.
 */
import { z } from "zod";
import { defineNodeAsset } from "../../connectors/neo4j/index.ts";
import { type RabbitMq, rabbitmqQueue } from "../../connectors/streams/rabbitmq.ts";
import { defineStreamAsset } from "../../connectors/streams/stream-asset.ts";
import { field } from "../shared/clean.ts";

/** The RabbitMQ queue the warehouse system publishes stock updates to. */
export const stockQueue = "inventory.stock";

export const StockUpdate = z.object({
  eventId: field.id,
  sku: field.text,
  warehouse: field.text,
  onHand: field.number(z.number().int("Must be a whole number").nonnegative("Must not be negative")),
  occurredAt: field.timestamp,
});
export type StockUpdate = z.infer<typeof StockUpdate>;

/** `sku@warehouse`. */
export const stockKey = (s: StockUpdate): string => `${s.sku}@${s.warehouse}`;

export const stockUpdates = defineStreamAsset<StockUpdate, StockUpdate, { rabbitmq: RabbitMq }>({
  key: "stream/stock_updates",
  codeVersion: "1",
  description: "Stock levels per sku and warehouse from RabbitMQ: the latest update by time wins",
  table: "stream_stock_updates",
  stream: rabbitmqQueue({ queue: stockQueue }),
  model: StockUpdate,
  eventId: (s) => s.eventId,
  sourceKey: stockKey,
  rawKey: (raw) => raw.sku && raw.warehouse ? `${raw.sku}@${raw.warehouse}` : undefined,
  updatedAt: (s) => s.occurredAt,
});

export const stockLevelNodes = defineNodeAsset<StockUpdate>({
  key: "graph/StockLevel",
  codeVersion: "1",
  label: "StockLevel",
  keyProperty: "stockKey",
  indexes: ["sku"],
  from: stockUpdates,
  properties: ({ eventId: _, ...s }) => ({ stockKey: stockKey(s as StockUpdate), ...s }),
});
