import { defineNodeAsset, defineRelationshipAsset } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset } from "../../connectors/staging/index.ts";
import { productNodes } from "./catalog.ts";
import { customerNodes } from "./customers.ts";
import { type Shop, shopTable } from "./shop.ts";
import type { PaymentsClient } from "../../connectors/payments-api/index.ts";
import {
  Order,
  OrderItem,
  orderItemKey,
  orderKey,
  Payment,
  paymentKey,
  paymentOfCharge,
  Shipment,
  shipmentKey,
} from "./models.ts";

export const stagedOrders = defineStagedAsset<Order, Shop>({
  key: "ec/orders",
  codeVersion: "2",
  table: "ec_orders",
  source: "shop.orders",
  model: Order,
  sourceKey: orderKey,
  rawKey: (row) => row.order_id,
  updatedAt: (o) => o.updatedAt,
  ...shopTable<Order>("orders", "order_id"),
});

export const orderNodes = defineNodeAsset<Order>({
  key: "graph/Order",
  codeVersion: "1",
  label: "Order",
  keyProperty: "orderId",
  indexes: ["orderedAt"],
  from: stagedOrders,
  properties: (o) => ({ ...o }),
});

/** `(:Customer)-[:PLACED]->(:Order)`. */
export const placed = defineRelationshipAsset<Order>({
  key: "graph/PLACED",
  codeVersion: "1",
  type: "PLACED",
  from: stagedOrders,
  start: { node: customerNodes, value: (o) => o.customerId },
  end: { node: orderNodes, value: (o) => o.orderId },
  properties: (o) => ({ orderedAt: o.orderedAt }),
});

export const stagedOrderItems = defineStagedAsset<OrderItem, Shop>({
  key: "ec/order_items",
  codeVersion: "2",
  table: "ec_order_items",
  source: "shop.order_items",
  model: OrderItem,
  sourceKey: orderItemKey,
  rawKey: (row) => `${row.order_id}:${row.line_no}`,
  updatedAt: (i) => i.updatedAt,
  ...shopTable<OrderItem>("order_items", "order_id, line_no"),
});

/** `(:Order)-[:CONTAINS {quantity, unitPrice, discount}]->(:Product)`, one per order line. */
export const contains = defineRelationshipAsset<OrderItem>({
  key: "graph/CONTAINS",
  codeVersion: "2",
  type: "CONTAINS",
  from: stagedOrderItems,
  start: { node: orderNodes, value: (i) => i.orderId },
  end: { node: productNodes, value: (i) => i.productId },
  properties: (i) => ({ lineNo: i.lineNo, quantity: i.quantity, unitPrice: i.unitPrice, discount: i.discount }),
  integers: ["lineNo", "quantity"],
});

/** Payments as the payment provider's API lists its charges (newest first), mapped to the shop's payment rows. */
export const stagedPayments = defineStagedAsset<Payment, { payments: PaymentsClient }>({
  key: "ec/payments",
  codeVersion: "2",
  table: "ec_payments",
  source: "payments API: charges",
  model: Payment,
  sourceKey: paymentKey,
  rawKey: (row) => row.payment_id,
  resources: ["payments"],
  async *extract({ resources: { payments } }) {
    for await (const charge of payments.list("charges", { limit: 100 })) yield paymentOfCharge(charge);
  },
  // The newest charge and refund: a new payment or refund makes the source stale without extracting it.
  observe: async ({ resources: { payments } }) => {
    const [charge, refund] = await Promise.all([payments.newest("charges"), payments.newest("refunds")]);
    return { charge: charge?.id ?? null, refund: refund?.id ?? null };
  },
});

export const paymentNodes = defineNodeAsset<Payment>({
  key: "graph/Payment",
  codeVersion: "1",
  label: "Payment",
  keyProperty: "paymentId",
  from: stagedPayments,
  properties: (p) => ({ ...p }),
});

/** `(:Order)-[:PAID_BY]->(:Payment)`. */
export const paidBy = defineRelationshipAsset<Payment>({
  key: "graph/PAID_BY",
  codeVersion: "1",
  type: "PAID_BY",
  from: stagedPayments,
  start: { node: orderNodes, value: (p) => p.orderId },
  end: { node: paymentNodes, value: (p) => p.paymentId },
});

export const stagedShipments = defineStagedAsset<Shipment, Shop>({
  key: "ec/shipments",
  codeVersion: "2",
  table: "ec_shipments",
  source: "shop.shipments",
  model: Shipment,
  sourceKey: shipmentKey,
  rawKey: (row) => row.shipment_id,
  updatedAt: (s) => s.updatedAt,
  ...shopTable<Shipment>("shipments", "shipment_id"),
});

export const shipmentNodes = defineNodeAsset<Shipment>({
  key: "graph/Shipment",
  codeVersion: "1",
  label: "Shipment",
  keyProperty: "shipmentId",
  indexes: ["trackingNumber"],
  from: stagedShipments,
  properties: (s) => ({ ...s }),
});

/** `(:Order)-[:SHIPPED_IN]->(:Shipment)`. */
export const shippedIn = defineRelationshipAsset<Shipment>({
  key: "graph/SHIPPED_IN",
  codeVersion: "1",
  type: "SHIPPED_IN",
  from: stagedShipments,
  start: { node: orderNodes, value: (s) => s.orderId },
  end: { node: shipmentNodes, value: (s) => s.shipmentId },
});
