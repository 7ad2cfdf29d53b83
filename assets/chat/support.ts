import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { defineCollectionAsset } from "../../connectors/chroma/index.ts";
import { defineNodeAsset, defineRelationshipAsset } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset } from "../../connectors/staging/index.ts";
import { sourcesDir } from "../../resources/settings.ts";
import { isBadRow } from "../../connectors/bad-rows.ts";
import { readJsonLines } from "../../connectors/jsonl/index.ts";
import type { ChatClient } from "../../connectors/chat-api/index.ts";
import {
  ChatMessage,
  chatMessageKey,
  ChatSession,
  chatSessionKey,
  messageOfWebhookEvent,
  messagesOfConversation,
  sessionOfTicket,
  SupportAgent,
  supportAgentKey,
} from "./models.ts";

const chatFile = (...path: string[]) => join(sourcesDir, "chat", ...path);

/** The JSON values of JSON Lines files, unreadable lines passed on to be dead-lettered. */
async function* values(paths: string | string[], expand: (value: unknown) => unknown[] = (v) => [v]) {
  for await (const entry of readJsonLines(paths)) {
    if (isBadRow(entry)) yield entry;
    else yield* expand(entry.value);
  }
}

/** Webhook deliveries in the landing folder, oldest file first. */
function webhookFiles(): string[] {
  const dir = chatFile("webhooks");
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort().map((f) => join(dir, f));
}

export const stagedAgents = defineStagedAsset<SupportAgent>({
  key: "chat/agents",
  codeVersion: "1",
  table: "chat_agents",
  source: "chat/export/agents.jsonl",
  model: SupportAgent,
  sourceKey: supportAgentKey,
  rawKey: (line) => line.id,
  extract: () => values(chatFile("export", "agents.jsonl")),
});

export const agentNodes = defineNodeAsset<SupportAgent>({
  key: "graph/SupportAgent",
  codeVersion: "1",
  label: "SupportAgent",
  keyProperty: "agentId",
  from: stagedAgents,
  properties: (a) => ({ ...a }),
});

/**
 * Chat sessions from the chat API's incremental ticket export (Zendesk-shaped), requesters and agents
 * side-loaded. A ticket changed while the export pages comes again, later: the latest `updated_at` wins.
 * Incremental: each read starts at the latest `updated_at` staged (less ten minutes), as the export's
 * `start_time`; the whole export is read once a day, to find deleted tickets.
 */
export const stagedSessions = defineStagedAsset<ChatSession, { chat: ChatClient }>({
  key: "chat/sessions",
  codeVersion: "2",
  table: "chat_sessions",
  source: "chat API: incremental ticket export",
  model: ChatSession,
  sourceKey: chatSessionKey,
  rawKey: (line) => line.id,
  updatedAt: (s) => s.updatedAt,
  resources: ["chat"],
  incremental: { cursor: (s) => new Date(s.updatedAt), lag: 10 * 60_000, fullReadEveryMs: 24 * 3600_000 },
  async *extract({ resources: { chat }, since }) {
    const startTime = since instanceof Date ? Math.floor(since.getTime() / 1000) : 0;
    for await (const ticket of chat.tickets({ startTime })) yield sessionOfTicket(ticket);
  },
});

export const sessionNodes = defineNodeAsset<ChatSession>({
  key: "graph/ChatSession",
  codeVersion: "1",
  label: "ChatSession",
  keyProperty: "sessionId",
  indexes: ["requesterEmail"],
  from: stagedSessions,
  properties: (s) => ({ ...s }),
});

/** `(:SupportAgent)-[:HANDLED]->(:ChatSession)`. */
export const handled = defineRelationshipAsset<ChatSession>({
  key: "graph/HANDLED",
  codeVersion: "1",
  type: "HANDLED",
  from: stagedSessions,
  where: (s) => s.agentId !== null,
  start: { node: agentNodes, value: (s) => s.agentId },
  end: { node: sessionNodes, value: (s) => s.sessionId },
});

/** Messages: those in the conversations export, then those delivered by webhooks since. */
export const stagedMessages = defineStagedAsset<ChatMessage>({
  key: "chat/messages",
  codeVersion: "1",
  table: "chat_messages",
  source: "chat/export/conversations.jsonl + chat/webhooks",
  model: ChatMessage,
  sourceKey: chatMessageKey,
  rawKey: (message) => `${message.conversation_id}:${message.id}`,
  async *extract() {
    yield* values(chatFile("export", "conversations.jsonl"), messagesOfConversation);
    yield* values(webhookFiles(), (event) => [messageOfWebhookEvent(event)]);
  },
});

/** Messages are keyed `session:message`: message ids are unique only within their session. */
export const messageNodes = defineNodeAsset<ChatMessage>({
  key: "graph/ChatMessage",
  codeVersion: "1",
  label: "ChatMessage",
  keyProperty: "messageKey",
  from: stagedMessages,
  properties: (m) => ({ ...m, messageKey: chatMessageKey(m) }),
});

/** `(:ChatSession)-[:HAS_MESSAGE]->(:ChatMessage)`. */
export const hasMessage = defineRelationshipAsset<ChatMessage>({
  key: "graph/HAS_MESSAGE",
  codeVersion: "1",
  type: "HAS_MESSAGE",
  from: stagedMessages,
  start: { node: sessionNodes, value: (m) => m.sessionId },
  end: { node: messageNodes, value: chatMessageKey },
  properties: (m) => ({ sentAt: m.sentAt }),
});

/** The `chat_messages` collection: each message's text, filterable by session, sender and time. */
export const chatMessageVectors = defineCollectionAsset<ChatMessage>({
  key: "vectors/chat_messages",
  codeVersion: "1",
  collection: "chat_messages",
  from: stagedMessages,
  document: (m) => m.text,
  metadata: (m) => ({
    session_id: m.sessionId,
    message_id: m.messageId,
    sender: m.senderType,
    sender_id: m.senderId,
    sent_at: Date.parse(m.sentAt),
  }),
});
