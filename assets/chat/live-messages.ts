/**
 * The support chat's live messages: the chat service posts a `message.created` webhook (Zendesk-signed) for
 * each message as it is sent; `ingest webhooks` stores each delivery before answering, and the stream asset
 * reads them into `:LiveChatMessage` nodes within a second. Deliveries come twice (a sender retries what it
 * saw no answer to) and late: a message is applied once, keyed `conversation:message`.
 */
import { z } from "zod";
import { defineNodeAsset } from "../../connectors/neo4j/index.ts";
import { defineStreamAsset } from "../../connectors/streams/stream-asset.ts";
import { webhookDeliveries } from "../../connectors/streams/webhooks.ts";
import type { WebhookDeliveries } from "../../connectors/webhooks/deliveries.ts";
import { defineWebhookSource } from "../../connectors/webhooks/source.ts";
import { envSecret, stateSecret } from "../../resources/settings.ts";
import { ChatMessage, chatMessageKey, messageOfWebhookEvent } from "./models.ts";

/**
 * The chat service's webhook, at `POST /webhooks/chat`: signed with `CHAT_WEBHOOK_SECRET` (or the file
 * `CHAT_WEBHOOK_SECRET_FILE` names), else the local sample's secret (`ingest stack up`).
 */
export const chatWebhook = defineWebhookSource({
  name: "chat",
  scheme: "zendesk",
  secrets: () => [envSecret("CHAT_WEBHOOK_SECRET") ?? stateSecret("chat-webhook")],
});

/** A `message.created` delivery's message, as a ChatMessage. */
const DeliveredMessage = z.preprocess(messageOfWebhookEvent, ChatMessage);

export const liveChatMessages = defineStreamAsset<ChatMessage, ChatMessage, { webhookDeliveries: WebhookDeliveries }>({
  key: "stream/chat_messages",
  codeVersion: "1",
  description: "Chat messages as the chat service's webhook delivers them, each once",
  table: "stream_chat_messages",
  stream: webhookDeliveries(chatWebhook),
  model: DeliveredMessage as unknown as z.ZodType<ChatMessage>,
  eventId: chatMessageKey,
  sourceKey: chatMessageKey,
  rawKey: (event) => `${event?.conversation_id}:${event?.message?.id}`,
  updatedAt: (m) => m.sentAt,
});

/** Keyed `conversation:message`, as `:ChatMessage` is. */
export const liveChatMessageNodes = defineNodeAsset<ChatMessage>({
  key: "graph/LiveChatMessage",
  codeVersion: "1",
  label: "LiveChatMessage",
  keyProperty: "messageKey",
  indexes: ["sessionId"],
  from: liveChatMessages,
  properties: (m) => ({ ...m, messageKey: chatMessageKey(m) }),
});
