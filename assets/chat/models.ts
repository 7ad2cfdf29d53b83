/**
 * The support-chat entities, from the Intercom/Zendesk-shaped exports (see samples/SOURCES.md):
 * `agents.jsonl`, `conversations.jsonl` and the `message.created` webhook deliveries.
 *
 * A conversation line holds its messages. {@link ChatSession} reads the line and leaves the
 * messages out; {@link messagesOfConversation} gives them as ChatMessage source records with the
 * conversation's id attached as `conversation_id`, which is also how a webhook delivery carries
 * it ({@link messageOfWebhookEvent}), so {@link ChatMessage} parses messages from both alike:
 *
 * @example
 * const line = JSON.parse(text);
 * const session = ChatSession.parse(line);
 * const messages = messagesOfConversation(line).map((m) => ChatMessage.safeParse(m));
 */
import { z } from "zod";
import { field, fromSource } from "../shared/clean.ts";

/** A support agent, from `agents.jsonl`. */
export const SupportAgent = fromSource(
  z.object({
    agentId: field.id,
    name: field.text,
    email: field.email,
    team: field.optionalText,
  }),
  { agentId: ["id"] },
);
export type SupportAgent = z.infer<typeof SupportAgent>;
export const supportAgentKey = (a: SupportAgent): string => a.agentId;

/**
 * A conversation, from a `conversations.jsonl` line, without its messages. `agentId` is the
 * assignee (`null` if unassigned); `orderId` and `productId` are the optional `order_ref` and
 * `product_ref`; the requester's email is normalised, as it resolves the `(:Person)`.
 */
export const ChatSession = fromSource(
  z.object({
    sessionId: field.id,
    channel: field.optionalText,
    agentId: field.optionalId,
    requesterEmail: field.email,
    requesterName: field.optionalText,
    orderId: field.optionalId,
    productId: field.optionalId,
    createdAt: field.timestamp,
    updatedAt: field.timestamp,
  }),
  {
    sessionId: ["id"],
    agentId: ["assignee_id"],
    requesterEmail: ["requester.email"],
    requesterName: ["requester.name"],
    orderId: ["order_ref"],
    productId: ["product_ref"],
    createdAt: ["created_at"],
    updatedAt: ["updated_at"],
  },
);
export type ChatSession = z.infer<typeof ChatSession>;
export const chatSessionKey = (s: ChatSession): string => s.sessionId;

export const senderTypes = ["user", "agent"] as const;

/**
 * A message of a conversation: `{ id, conversation_id, author_type, author_id?, body, created_at }`.
 * `senderId` is the agent's id for agent messages; a user's messages are the requester's.
 */
export const ChatMessage = fromSource(
  z.object({
    messageId: field.id,
    sessionId: field.id,
    senderType: field.oneOf(senderTypes),
    senderId: field.optionalId,
    text: field.text,
    sentAt: field.timestamp,
  }),
  {
    messageId: ["id"],
    sessionId: ["conversation_id"],
    senderType: ["author_type"],
    senderId: ["author_id"],
    text: ["body"],
    sentAt: ["created_at"],
  },
);
export type ChatMessage = z.infer<typeof ChatMessage>;
/** `conversation:message`: message ids are only known to be unique within their conversation. */
export const chatMessageKey = (m: ChatMessage): string => `${m.sessionId}:${m.messageId}`;

/** The messages of a `conversations.jsonl` line as ChatMessage source records (`conversation_id` added). */
export function messagesOfConversation(line: unknown): unknown[] {
  if (typeof line !== "object" || line === null) return [];
  const { id, messages } = line as { id?: unknown; messages?: unknown };
  if (!Array.isArray(messages)) return [];
  return messages.map((m: unknown) => (typeof m === "object" && m !== null ? { ...m, conversation_id: id } : m));
}

/** The message of a `message.created` webhook delivery as a ChatMessage source record. */
export function messageOfWebhookEvent(event: unknown): unknown {
  if (typeof event !== "object" || event === null) return event;
  const { conversation_id, message } = event as { conversation_id?: unknown; message?: unknown };
  return typeof message === "object" && message !== null ? { ...message, conversation_id } : message;
}

/** The custom fields of the chat API's tickets that hold the conversation's order and product. */
export const ticketFields = { orderRef: 360_001, productRef: 360_002 } as const;

/**
 * A ticket of the chat API's incremental export (Zendesk-shaped, its `requester` and `assignee` side-loaded
 * by the `ChatClient`) as the conversation line {@link ChatSession} reads: `external_id` is the
 * conversation's id, the assignee's `external_id` the agent's, order and product are custom fields.
 */
export function sessionOfTicket(ticket: unknown): unknown {
  if (typeof ticket !== "object" || ticket === null) return ticket;
  const t = ticket as Record<string, unknown> & {
    requester?: { email?: unknown; name?: unknown };
    assignee?: { external_id?: unknown };
    via?: { channel?: unknown };
    custom_fields?: { id?: unknown; value?: unknown }[];
  };
  const fields = Array.isArray(t.custom_fields) ? t.custom_fields : [];
  const field = (id: number) => fields.find((f) => f?.id === id)?.value ?? null;
  return {
    id: t.external_id,
    created_at: t.created_at,
    updated_at: t.updated_at,
    channel: t.via?.channel ?? null,
    assignee_id: t.assignee?.external_id ?? null,
    ...(t.requester ? { requester: { email: t.requester.email, name: t.requester.name } } : {}),
    order_ref: field(ticketFields.orderRef),
    product_ref: field(ticketFields.productRef),
  };
}
