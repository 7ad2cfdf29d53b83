import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { badReasonOf, type Entity, isDuplicated, isRedelivered } from "../defects.ts";
import { ids } from "../links.ts";
import { type OnProgress, progressOf } from "../progress.ts";
import { intBetween, recordStream, streamTag } from "../random.ts";
import { type EntityReport, Tally } from "../report.ts";
import { DelayedLines } from "../sinks/delayed.ts";
import { LineFile } from "../sinks/line-file.ts";
import { isoMillis, isoSeconds, unparseableDate } from "../time.ts";
import { invalidEmail } from "../vocabulary/people.ts";
import type { World } from "../world.ts";
import { agentObject } from "./agents.ts";
import { type ChatMessage, type Conversation, conversation } from "./conversations.ts";
import { agentUser, commentOf, requesterUser, ticketOf } from "./zendesk.ts";

const CONVERSATION_ROW = streamTag("chat.conversations.row");
const MESSAGE_ROW = streamTag("chat.messages.row");
const DELIVERY = streamTag("chat.webhooks");
const DUPLICATE_LAG = 7;
const EVENTS_PER_FILE = 1000;

export interface ChatOutput {
  reports: Partial<Record<Entity, EntityReport>>;
  files: Record<string, number>;
  /** Good conversations started by a good customer, and by someone else. */
  requestersWhoAreCustomers: number;
  requestersWhoAreNotCustomers: number;
}

type MessageJson = { id: string; author_type: "user" | "agent"; author_id?: string; body?: string; created_at: string };

/** `messageIndex` is the message's position among all messages (see `defectRules`). */
function messageJson(world: World, m: ChatMessage, messageIndex: number): MessageJson {
  const bad = badReasonOf("chat_messages", messageIndex);
  const createdAt = bad === "unparseable_date"
    ? unparseableDate(recordStream(world.seed, MESSAGE_ROW, messageIndex))
    : isoSeconds(m.createdAt);
  return {
    id: m.id,
    author_type: m.authorType,
    ...(m.authorId === undefined ? {} : { author_id: m.authorId }),
    ...(bad === "missing_required_field" ? {} : { body: m.body }),
    created_at: createdAt,
  };
}

function conversationJson(
  world: World,
  c: Conversation,
  messages: MessageJson[],
  snapshot = false,
): Record<string, unknown> {
  const random = recordStream(world.seed, CONVERSATION_ROW, c.index);
  const bad = snapshot ? undefined : badReasonOf("conversations", c.index);
  const json: Record<string, unknown> = {
    id: c.id,
    created_at: bad === "unparseable_date" ? unparseableDate(random) : isoSeconds(c.startedAt),
    // the older snapshot was taken when the conversation had just started
    updated_at: isoSeconds(snapshot ? c.startedAt : c.updatedAt),
    channel: c.channel,
    assignee_id: ids.agent(c.assigneeIndex),
  };
  if (bad !== "missing_required_field") {
    const email = bad === "invalid_email"
      ? invalidEmail(random, c.requester.email.trim().toLowerCase())
      : c.requester.email;
    json.requester = { email, name: c.requester.name };
  }
  if (c.orderRef !== undefined) json.order_ref = c.orderRef;
  if (c.productRef !== undefined) json.product_ref = c.productRef;
  json.messages = messages;
  return json;
}

async function writeAgents(world: World, outDir: string, onProgress: OnProgress | undefined) {
  const path = "chat/export/agents.jsonl";
  const file = new LineFile(join(outDir, path));
  const tally = new Tally("agents", path);
  const delayed = new DelayedLines();
  for (let a = 0; a < world.sizes.agents; a++) {
    const line = JSON.stringify(agentObject(world, a));
    await file.write(line);
    tally.record(badReasonOf("agents", a));
    // an agent has no update time: its duplicate is the same line exported again
    if (isDuplicated("agents", a)) delayed.hold(a + DUPLICATE_LAG, line);
    for (const held of delayed.due(a)) {
      await file.write(held);
      tally.duplicate();
    }
  }
  for (const held of delayed.rest()) {
    await file.write(held);
    tally.duplicate();
  }
  await file.close();
  progressOf("agents", onProgress).done(tally.generated);
  return { report: tally.report(), lines: file.lines };
}

/**
 * `chat/export/agents.jsonl`, `chat/export/conversations.jsonl` and `chat/webhooks/events-NNNN.jsonl`, and
 * the same conversations as the chat API serves them: `chat/api/tickets.jsonl` (a ticket for every export
 * line, snapshots included), `users.jsonl` (agents, then requesters) and `comments.jsonl` (every message,
 * webhook ones too, once). The webhook events (messages after the export, about 1 % of N) are kept in memory
 * to be written in delivery order.
 */
export async function writeChat(world: World, outDir: string, onProgress?: OnProgress): Promise<ChatOutput> {
  await mkdir(join(outDir, "chat", "export"), { recursive: true });
  await mkdir(join(outDir, "chat", "webhooks"), { recursive: true });
  await mkdir(join(outDir, "chat", "api"), { recursive: true });
  const files: Record<string, number> = {};
  const agents = await writeAgents(world, outDir, onProgress);
  files["chat/export/agents.jsonl"] = agents.lines;
  const api = {
    tickets: new LineFile(join(outDir, "chat", "api", "tickets.jsonl")),
    users: new LineFile(join(outDir, "chat", "api", "users.jsonl")),
    comments: new LineFile(join(outDir, "chat", "api", "comments.jsonl")),
  };
  for (let a = 0; a < world.sizes.agents; a++) await api.users.write(JSON.stringify(agentUser(world, a)));

  const path = "chat/export/conversations.jsonl";
  const file = new LineFile(join(outDir, path));
  // The bundled chat/sessions reads the chat API's tickets: one for each line of the export, alike.
  const conversations = new Tally("conversations", "chat/api/tickets.jsonl (the chat API's ticket export)");
  const delayedTickets = new DelayedLines();
  const messages = new Tally("chat_messages", `${path} (messages) + chat/webhooks/events-*.jsonl`);
  const delayed = new DelayedLines();
  const events: { deliveredAt: number; order: string; line: string }[] = [];
  const progress = progressOf("conversations", onProgress);
  let messageIndex = 0;
  let webhookMessageIndex = 0;
  let requestersWhoAreCustomers = 0;
  let requestersWhoAreNotCustomers = 0;

  for (let c = 0; c < world.sizes.conversations; c++) {
    const conv = conversation(world, c);
    const delivery = recordStream(world.seed, DELIVERY, c);
    const exported: MessageJson[] = [];
    for (const m of conv.messages) {
      const index = messageIndex++;
      const json = messageJson(world, m, index);
      await api.comments.write(JSON.stringify(commentOf(conv, m.position, json)));
      messages.record(badReasonOf("chat_messages", index));
      if (m.position < conv.exported) {
        exported.push(json);
        continue;
      }
      const deliveredAt = m.createdAt + intBetween(delivery, 1, 20) * 1000;
      const event = (at: number) =>
        JSON.stringify({
          event: "message.created",
          delivered_at: isoMillis(at),
          conversation_id: conv.id,
          message: json,
        });
      events.push({ deliveredAt, order: `${m.id}.1`, line: event(deliveredAt) });
      if (isRedelivered(webhookMessageIndex++) && badReasonOf("chat_messages", index) === undefined) {
        const again = deliveredAt + intBetween(delivery, 60, 600) * 1000;
        events.push({ deliveredAt: again, order: `${m.id}.2`, line: event(again) });
        messages.duplicate();
      }
    }
    const line = conversationJson(world, conv, exported);
    await file.write(JSON.stringify(line));
    await api.tickets.write(JSON.stringify(ticketOf(conv, line)));
    const user = requesterUser(c, line);
    if (user) await api.users.write(JSON.stringify(user));
    const bad = badReasonOf("conversations", c);
    conversations.record(bad);
    if (bad === undefined) {
      if (conv.requester.customerIndex === undefined) requestersWhoAreNotCustomers++;
      else requestersWhoAreCustomers++;
    }
    if (isDuplicated("conversations", c)) {
      // the older snapshot repeats the first message: a duplicate message too (or a bad one, if it was bad)
      const first = exported[0] as MessageJson;
      const snapshot = conversationJson(world, conv, [first], true);
      delayed.hold(c + DUPLICATE_LAG, JSON.stringify(snapshot));
      delayedTickets.hold(c + DUPLICATE_LAG, JSON.stringify(ticketOf(conv, snapshot)));
      conversations.duplicate();
      const firstBad = badReasonOf("chat_messages", messageIndex - conv.messages.length);
      if (firstBad) messages.record(firstBad);
      else messages.duplicate();
    }
    for (const held of delayed.due(c)) await file.write(held);
    for (const held of delayedTickets.due(c)) await api.tickets.write(held);
    progress.tick(conversations.generated);
  }
  for (const held of delayed.rest()) await file.write(held);
  for (const held of delayedTickets.rest()) await api.tickets.write(held);
  await file.close();
  files[path] = file.lines;
  for (const [name, out] of Object.entries(api)) {
    await out.close();
    files[`chat/api/${name}.jsonl`] = out.lines;
  }
  progress.done(conversations.generated);

  events.sort((a, b) => a.deliveredAt - b.deliveredAt || (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
  const fileCount = Math.max(1, Math.ceil(events.length / EVENTS_PER_FILE));
  for (let n = 0; n < fileCount; n++) {
    const name = `chat/webhooks/events-${String(n + 1).padStart(4, "0")}.jsonl`;
    const out = new LineFile(join(outDir, name));
    for (const event of events.slice(n * EVENTS_PER_FILE, (n + 1) * EVENTS_PER_FILE)) await out.write(event.line);
    await out.close();
    files[name] = out.lines;
  }
  progressOf("chat_messages", onProgress).done(messages.generated);

  return {
    reports: { agents: agents.report, conversations: conversations.report(), chat_messages: messages.report() },
    files,
    requestersWhoAreCustomers,
    requestersWhoAreNotCustomers,
  };
}
