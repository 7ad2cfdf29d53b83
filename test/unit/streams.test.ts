import { describe, expect, it } from "vitest";
import { foldOrderStatus, OrderEvent, type OrderStatus } from "../../assets/ec/order-events.ts";
import { StockUpdate } from "../../assets/ec/stock.ts";
import { liveMessages } from "../../samples/generate/streams.ts";

/** Every order of `items`. */
function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest])
  );
}

const fold = (events: OrderEvent[]) =>
  events.reduce<OrderStatus | undefined>((state, e) => foldOrderStatus(state, e), undefined)!;

describe("an order's status, folded from its events", () => {
  const placed: OrderEvent = {
    eventId: "o1:placed",
    type: "order.placed",
    orderId: "o1",
    occurredAt: "2026-11-01T10:00:00.000Z",
    customerId: "c1",
    total: 12.5,
    currency: "EUR",
  };
  const paid: OrderEvent = {
    eventId: "o1:paid",
    type: "order.paid",
    orderId: "o1",
    occurredAt: "2026-11-01T10:05:00.000Z",
    paymentId: "ch_1",
  };
  const shipped: OrderEvent = {
    eventId: "o1:shipped",
    type: "order.shipped",
    orderId: "o1",
    occurredAt: "2026-11-02T08:00:00.000Z",
    carrier: "DHL",
    trackingNumber: "T1",
  };
  // A second payment event of the same order, later: it wins over the first, whatever comes first.
  const paidAgain: OrderEvent = {
    ...paid,
    eventId: "o1:paid:2",
    occurredAt: "2026-11-01T10:06:00.000Z",
    paymentId: "ch_2",
  };

  it("is the same whatever order the events come in, and with any of them twice", () => {
    const events = [placed, paid, shipped, paidAgain];
    const expected = fold(events);
    expect(expected).toMatchObject({
      status: "shipped",
      placedAt: placed.occurredAt,
      paidAt: paidAgain.occurredAt,
      paymentId: "ch_2",
      shippedAt: shipped.occurredAt,
      updatedAt: shipped.occurredAt,
      total: 12.5,
    });
    for (const order of permutations(events)) {
      expect(fold(order)).toEqual(expected);
      expect(fold([...order, order[0]!, order[2]!])).toEqual(expected);
    }
  });

  it("is shipped when the shipment comes before the payment, with the payment's time once it comes", () => {
    expect(fold([shipped]).status).toBe("shipped");
    expect(fold([shipped, paid])).toMatchObject({ status: "shipped", paidAt: paid.occurredAt });
    expect(fold([paid]).status).toBe("paid");
    expect(fold([paid]).placedAt).toBeUndefined();
  });
});

describe("the sample streams", () => {
  const messages = [...liveMessages({ seed: 7, count: 20_000, start: Date.parse("2026-12-01T00:00:00Z") })];

  it("are the same for the same seed and count", () => {
    const again = [...liveMessages({ seed: 7, count: 20_000, start: Date.parse("2026-12-01T00:00:00Z") })];
    expect(again).toEqual(messages);
    expect(messages).toHaveLength(20_000);
  });

  it("carry events of the three streams, late, twice, malformed and badly signed in the documented shares", () => {
    const share = (test: (m: (typeof messages)[number]) => boolean) => messages.filter(test).length / messages.length;
    expect(share((m) => m.stream === "orders")).toBeCloseTo(0.6, 1);
    expect(share((m) => m.stream === "stock")).toBeCloseTo(0.25, 1);
    expect(share((m) => m.stream === "chat")).toBeCloseTo(0.15, 1);
    expect(share((m) => m.kind === "duplicate")).toBeCloseTo(0.02, 2);
    expect(share((m) => m.kind === "malformed")).toBeCloseTo(0.01, 2);
    expect(share((m) => m.kind === "bad-signature")).toBeCloseTo(0.01, 2);
    // Every event parses with its asset's model; every duplicate repeats an event sent before it.
    const seen = new Set<string>();
    for (const m of messages) {
      if (m.kind === "duplicate") expect(seen.has(m.body)).toBe(true);
      if (m.kind !== "event") continue;
      seen.add(m.body);
      if (m.stream === "orders") expect(OrderEvent.safeParse(JSON.parse(m.body)).success).toBe(true);
      if (m.stream === "stock") expect(StockUpdate.safeParse(JSON.parse(m.body)).success).toBe(true);
    }
    // Some orders' later stages come before earlier ones: shipped sent before paid.
    const firstSent = new Map<string, number>();
    messages.forEach((m, i) => m.kind === "event" && m.id && !firstSent.has(m.id) && firstSent.set(m.id, i));
    const outOfOrder = [...firstSent.keys()].filter((id) =>
      id.endsWith(":shipped") && firstSent.has(id.replace(":shipped", ":paid")) &&
      firstSent.get(id)! < firstSent.get(id.replace(":shipped", ":paid"))!
    );
    expect(outOfOrder.length).toBeGreaterThan(50);
  });
});
