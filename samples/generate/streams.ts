/**
 * The sample real-time sources, as a live system sends them: order lifecycle events for Kafka, stock
 * updates for RabbitMQ and `message.created` chat webhook deliveries, interleaved in the order they go
 * out. As real senders do, they send events late and out of order (a later stage of an order, a newer stock
 * level, before an earlier one), twice (about 2%), malformed (about 1%), and the chat service sometimes
 * signs with a stale secret (about 1% of all messages: the receiver must refuse those). Deterministic: the same seed and
 * count give the same messages; every message says what loading it should give.
 */
import { mulberry32, pick } from "./random.ts";

/** Where a message goes. */
export type LiveStream = "orders" | "stock" | "chat";

/** One message to send, with what the pipeline should make of it. */
export interface LiveMessage {
  stream: LiveStream;
  /** The body as sent (JSON, or not for a malformed one). */
  body: string;
  /** The event's id (a chat delivery's id), when it has one. */
  id?: string;
  /**
   * `event`: a new event, to be applied; `duplicate`: sent before, applied once; `malformed`: to be
   * dead-lettered; `bad-signature`: a chat delivery the receiver must refuse with 401.
   */
  kind: "event" | "duplicate" | "malformed" | "bad-signature";
}

const carriers = ["DHL", "UPS", "GLS", "DPD"] as const;
const warehouses = ["BER", "HAM", "MUC"] as const;
const lines = [
  "Where is my order?",
  "The parcel arrived damaged.",
  "Can I change the delivery address?",
  "Thanks, that solved it.",
  "Is this available in blue?",
];

/**
 * `count` messages of the three streams (about 60% order events, 25% stock updates, 15% chat deliveries),
 * in the order they are sent. Event times start at `start` and advance about 1 ms per message.
 */
export function* liveMessages(options: { seed: number; count: number; start?: number }): Generator<LiveMessage> {
  const random = mulberry32(options.seed);
  const t0 = options.start ?? Date.now();
  const at = (i: number, later = 0) => new Date(t0 + i + later).toISOString();
  // Events waiting to go out late: sent a few dozen messages after their time.
  const late: { due: number; message: LiveMessage }[] = [];
  // Events sent so far, of which some go again.
  const sent: LiveMessage[] = [];
  let orders = 0;
  let chatMessages = 0;
  const prefix = `L${options.seed}`;
  const send = (message: LiveMessage): LiveMessage => {
    if (message.kind === "event") sent.push(message);
    return message;
  };
  for (let i = 0, emitted = 0; emitted < options.count; i++) {
    const ready = late.findIndex((l) => l.due <= i);
    if (ready >= 0) {
      yield send(late.splice(ready, 1)[0]!.message);
      emitted++;
      continue;
    }
    const roll = random();
    let message: LiveMessage;
    if (roll < 0.015) {
      const stream = pick(random, ["orders", "stock", "chat"] as const);
      message = { stream, kind: "malformed", body: pick(random, ['{"eventId": "', "null", "[1, 2", "\u0000\u00ff"]) };
    } else if (roll < 0.045 && sent.length > 0) {
      const again = pick(random, sent);
      message = { ...again, kind: "duplicate" };
    } else if (roll < 0.06) {
      chatMessages++;
      message = {
        stream: "chat",
        kind: "bad-signature",
        id: `${prefix}-d${chatMessages}`,
        body: chatBody(chatMessages),
      };
    } else if (roll < 0.45) {
      // A new order: placed now, paid and perhaps shipped later, those sent late or (sometimes) before it.
      const n = ++orders;
      const orderId = `${prefix}-O${String(n).padStart(7, "0")}`;
      const placed = {
        eventId: `${orderId}:placed`,
        type: "order.placed",
        orderId,
        occurredAt: at(i),
        customerId: `C${String(1 + Math.floor(random() * 5_000)).padStart(6, "0")}`,
        total: Math.round(random() * 30_000) / 100,
        currency: "EUR",
      };
      const paid = {
        eventId: `${orderId}:paid`,
        type: "order.paid",
        orderId,
        occurredAt: at(i, 2),
        paymentId: `ch_${n}`,
      };
      const shipped = {
        eventId: `${orderId}:shipped`,
        type: "order.shipped",
        orderId,
        occurredAt: at(i, 5),
        carrier: pick(random, carriers),
        trackingNumber: `TRK${n}`,
      };
      message = { stream: "orders", kind: "event", id: placed.eventId, body: JSON.stringify(placed) };
      if (random() < 0.8) {
        late.push({
          due: i + 1 + Math.floor(random() * 40),
          message: { stream: "orders", kind: "event", id: paid.eventId, body: JSON.stringify(paid) },
        });
      }
      if (random() < 0.5) {
        late.push({
          due: i + 1 + Math.floor(random() * 40), // sometimes before the payment: out of order
          message: { stream: "orders", kind: "event", id: shipped.eventId, body: JSON.stringify(shipped) },
        });
      }
    } else if (roll < 0.8) {
      const update = {
        eventId: `${prefix}-S${i}`,
        sku: `SKU-${String(Math.floor(random() * 200)).padStart(4, "0")}`,
        warehouse: pick(random, warehouses),
        onHand: Math.floor(random() * 500),
        occurredAt: at(i),
      };
      message = { stream: "stock", kind: "event", id: update.eventId, body: JSON.stringify(update) };
      // Some updates are sent late: the newer level of the same sku may be applied first.
      if (random() < 0.2) {
        late.push({ due: i + 1 + Math.floor(random() * 40), message });
        continue;
      }
    } else {
      chatMessages++;
      message = {
        stream: "chat",
        kind: "event",
        id: `${prefix}-d${chatMessages}`,
        body: chatBody(chatMessages),
      };
    }
    yield send(message);
    emitted++;
  }

  function chatBody(n: number): string {
    const conversation = `${prefix}-conv${1 + (n % 97)}`;
    return JSON.stringify({
      event: "message.created",
      delivered_at: at(n),
      conversation_id: conversation,
      message: {
        id: `m${n}`,
        author_type: n % 3 === 0 ? "agent" : "user",
        ...(n % 3 === 0 && { author_id: `agent-${n % 7}` }),
        body: lines[n % lines.length],
        created_at: at(n),
      },
    });
  }
}
