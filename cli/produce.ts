import type { Command } from "commander";
import { chatWebhook } from "../assets/chat/live-messages.ts";
import { orderEventsTopic } from "../assets/ec/order-events.ts";
import { stockQueue } from "../assets/ec/stock.ts";
import { openKafka } from "../connectors/streams/kafka.ts";
import { RabbitMq } from "../connectors/streams/rabbitmq.ts";
import { signDelivery } from "../connectors/webhooks/source.ts";
import { settings } from "../resources/settings.ts";
import { type LiveMessage, liveMessages, type LiveStream } from "../samples/generate/streams.ts";
import { output } from "./context.ts";

/** What `ingest produce` sent, by stream and kind, and what the chat receiver answered. */
interface ProduceReport {
  seed: number;
  sent: number;
  seconds: number;
  streams: Record<LiveStream, Record<LiveMessage["kind"], number>>;
  /** The webhook receiver's answers, by HTTP status (0: no answer). */
  chatAnswers: Record<string, number>;
}

/**
 * `ingest produce`: sends the sample real-time sources at a steady rate — order events to Kafka
 * (`shop.order-events`), stock updates to RabbitMQ (`inventory.stock`), chat deliveries to the webhook
 * receiver (`ingest webhooks`) — out of order, some twice, some malformed, some with a bad signature.
 */
export async function produce(
  options: { rate: number; count: number; seed?: number; webhooks: string; streams: string },
  command: Command,
): Promise<void> {
  const streams = new Set(options.streams.split(",").map((s) => s.trim()).filter(Boolean));
  const unknown = [...streams].filter((s) => !["orders", "stock", "chat"].includes(s));
  if (unknown.length > 0) throw new Error(`unknown stream '${unknown[0]}': the streams are orders, stock and chat`);
  const secret = chatWebhook.secrets()[0];
  if (streams.has("chat") && !secret) {
    throw new Error("no chat webhook secret: set CHAT_WEBHOOK_SECRET, or run `ingest stack up` for the local sample's");
  }
  const kafka = openKafka();
  const rabbitmq = new RabbitMq(settings().rabbitmq.url);
  const url = `${options.webhooks.replace(/\/$/, "")}/webhooks/${chatWebhook.name}`;
  const kinds = () => ({ event: 0, duplicate: 0, malformed: 0, "bad-signature": 0 });
  const seed = options.seed ?? Date.now() % 2 ** 31;
  const report: ProduceReport = {
    seed,
    sent: 0,
    seconds: 0,
    streams: { orders: kinds(), stock: kinds(), chat: kinds() },
    chatAnswers: {},
  };
  const deliver = async (message: LiveMessage) => {
    const headers = signDelivery(
      chatWebhook,
      message.kind === "bad-signature" ? `${secret}-stale` : secret!,
      message.body,
    );
    const status = await fetch(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "x-zendesk-webhook-id": message.id ?? "" },
      body: message.body,
    }).then(async (response) => {
      await response.body?.cancel();
      return response.status;
    }, () => 0);
    report.chatAnswers[status] = (report.chatAnswers[status] ?? 0) + 1;
  };
  const started = performance.now();
  // Sent in ticks of 10 ms, each with its share of the rate.
  const perTick = Math.max(1, Math.round(options.rate / 100));
  const messages = liveMessages({ seed, count: options.count });
  try {
    for (let tick = 0;; tick++) {
      // next(), not for…of: breaking out of a for…of would close the generator.
      const batch: LiveMessage[] = [];
      for (let next = messages.next(); !next.done; next = messages.next()) {
        batch.push(next.value);
        if (batch.length === perTick) break;
      }
      if (batch.length === 0) break;
      const of = (stream: LiveStream) => batch.filter((m) => m.stream === stream && streams.has(stream));
      await Promise.all([
        of("orders").length > 0 &&
        kafka.produce(orderEventsTopic, of("orders").map((m) => ({ key: m.id, value: m.body }))),
        of("stock").length > 0 && rabbitmq.publish(stockQueue, of("stock").map((m) => m.body)),
        ...of("chat").map(deliver),
      ]);
      for (const m of batch.filter((m) => streams.has(m.stream))) {
        report.streams[m.stream][m.kind] += 1;
        report.sent += 1;
      }
      const due = started + (tick + 1) * 10;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  } finally {
    report.seconds = Math.round(performance.now() - started) / 1000;
    await kafka.close();
    await rabbitmq.close();
  }
  output(command, report, () =>
    [
      `sent ${report.sent} messages in ${report.seconds} s (seed ${report.seed})`,
      ...(["orders", "stock", "chat"] as const).filter((stream) => streams.has(stream)).map((stream) => {
        const k = report.streams[stream];
        const to = stream === "orders"
          ? `Kafka ${orderEventsTopic}`
          : stream === "stock"
          ? `RabbitMQ ${stockQueue}`
          : url;
        return `  ${stream.padEnd(7)} ${String(k.event).padStart(7)} events  ${
          String(k.duplicate).padStart(5)
        } again  ${String(k.malformed).padStart(5)} malformed${
          stream === "chat" ? `  ${k["bad-signature"]} badly signed` : ""
        }  → ${to}`;
      }),
      ...(streams.has("chat")
        ? [
          `  the receiver answered: ${
            Object.entries(report.chatAnswers).map(([status, n]) => `${n} × ${status === "0" ? "no answer" : status}`)
              .join(", ") || "nothing sent"
          }`,
        ]
        : []),
    ].join("\n"));
  if (report.chatAnswers["0"]) {
    throw new Error(`the webhook receiver did not answer at ${url}: start it with \`ingest webhooks\``);
  }
}
