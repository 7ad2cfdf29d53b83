/**
 * The shop's order events from Kafka (`shop.order-events`): each order is placed, paid and shipped, and its
 * events come late, out of order and sometimes twice. They fold into one `:OrderStatus` per order, whose
 * state is the furthest stage seen, whatever order its events came in.
 */
import { z } from "zod";
import { defineNodeAsset } from "../../connectors/neo4j/index.ts";
import { type KafkaClient, kafkaTopic } from "../../connectors/streams/kafka.ts";
import { defineStreamAsset } from "../../connectors/streams/stream-asset.ts";
import { field } from "../shared/clean.ts";

/** The Kafka topic the shop publishes its order events to. */
export const orderEventsTopic = "shop.order-events";

const stages = ["placed", "paid", "shipped"] as const;

/** One order event, as the shop publishes it. */
export const OrderEvent = z.discriminatedUnion("type", [
  z.object({
    eventId: field.id,
    type: z.literal("order.placed"),
    orderId: field.id,
    occurredAt: field.timestamp,
    customerId: field.id,
    total: field.amount,
    currency: field.currency,
  }),
  z.object({
    eventId: field.id,
    type: z.literal("order.paid"),
    orderId: field.id,
    occurredAt: field.timestamp,
    paymentId: field.id,
  }),
  z.object({
    eventId: field.id,
    type: z.literal("order.shipped"),
    orderId: field.id,
    occurredAt: field.timestamp,
    carrier: field.text,
    trackingNumber: field.text,
  }),
]);
export type OrderEvent = z.infer<typeof OrderEvent>;

/** An order's state as its events tell it. */
export interface OrderStatus {
  orderId: string;
  status: (typeof stages)[number];
  /** The latest of its events' times. */
  updatedAt: string;
  placedAt?: string;
  customerId?: string;
  total?: number;
  currency?: string;
  paidAt?: string;
  paymentId?: string;
  shippedAt?: string;
  carrier?: string;
  trackingNumber?: string;
  /** Each stage's event, so a second event of one stage keeps the same winner whatever the order. */
  eventIds: Partial<Record<(typeof stages)[number], string>>;
}

const stageOf = (event: OrderEvent) => event.type.slice("order.".length) as (typeof stages)[number];

/**
 * Applies an event to an order's state. Order-independent: the status is the furthest stage seen, and of two
 * events of one stage the one with the later time (then the greater id) wins, whichever came first.
 */
export function foldOrderStatus(state: OrderStatus | undefined, event: OrderEvent): OrderStatus {
  const stage = stageOf(event);
  const current: OrderStatus = state ??
    { orderId: event.orderId, status: stage, updatedAt: event.occurredAt, eventIds: {} };
  const winner = current.eventIds[stage];
  const at = stage === "placed" ? current.placedAt : stage === "paid" ? current.paidAt : current.shippedAt;
  const wins = winner === undefined || event.occurredAt > at! || (event.occurredAt === at && event.eventId > winner);
  const next: OrderStatus = {
    ...current,
    status: stages.indexOf(stage) > stages.indexOf(current.status) ? stage : current.status,
    updatedAt: event.occurredAt > current.updatedAt ? event.occurredAt : current.updatedAt,
  };
  if (!wins) return next;
  next.eventIds = { ...current.eventIds, [stage]: event.eventId };
  if (event.type === "order.placed") {
    Object.assign(next, {
      placedAt: event.occurredAt,
      customerId: event.customerId,
      total: event.total,
      currency: event.currency,
    });
  } else if (event.type === "order.paid") {
    Object.assign(next, { paidAt: event.occurredAt, paymentId: event.paymentId });
  } else {
    Object.assign(next, {
      shippedAt: event.occurredAt,
      carrier: event.carrier,
      trackingNumber: event.trackingNumber,
    });
  }
  return next;
}

export const orderEvents = defineStreamAsset<OrderEvent, OrderStatus, { kafka: KafkaClient }>({
  key: "stream/order_events",
  codeVersion: "1",
  description: "Order events (placed, paid, shipped) from Kafka, folded into each order's status",
  table: "stream_order_events",
  stream: kafkaTopic({ topic: orderEventsTopic }),
  model: OrderEvent,
  eventId: (e) => e.eventId,
  sourceKey: (e) => e.orderId,
  rawKey: (raw) => raw.orderId,
  fold: foldOrderStatus,
});

export const orderStatusNodes = defineNodeAsset<OrderStatus>({
  key: "graph/OrderStatus",
  codeVersion: "1",
  label: "OrderStatus",
  keyProperty: "orderId",
  indexes: ["status"],
  from: orderEvents,
  properties: ({ eventIds: _, ...status }) => status,
});
