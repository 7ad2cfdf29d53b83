import { agentObject } from "./agents.ts";
import type { Conversation } from "./conversations.ts";
import type { World } from "../world.ts";

/** Custom fields of the sample chat API's tickets: the conversation's order and product. */
export const ticketFields = { orderRef: 360_001, productRef: 360_002 } as const;

/** Zendesk ids are numbers: agent `a` is user `a + 1`; the requester of conversation `c`, `10,000,001 + c`. */
export const agentUserId = (a: number) => a + 1;
export const requesterUserId = (c: number) => 10_000_001 + c;
export const ticketId = (c: number) => c + 1;

/** Agent `a` as a user of the chat API (`chat/api/users.jsonl`), as bad as its export line. */
export function agentUser(world: World, a: number): Record<string, unknown> {
  const agent = agentObject(world, a);
  return { id: agentUserId(a), external_id: agent.id, name: agent.name, email: agent.email, role: "agent" };
}

/** The requester of a conversation as a user, from its export line (so with the same bad email). */
export function requesterUser(c: number, line: Record<string, unknown>): Record<string, unknown> | undefined {
  const requester = line.requester as { email: string; name: string } | undefined;
  return requester && { id: requesterUserId(c), name: requester.name, email: requester.email, role: "end-user" };
}

/**
 * A conversation's export line as a ticket of the incremental export: the same values (bad ones included),
 * the requester and assignee as user ids, order and product as custom fields. A snapshot line (an older
 * `updated_at`) is the ticket as it was: the export gives it again once it changed.
 */
export function ticketOf(conv: Conversation, line: Record<string, unknown>): Record<string, unknown> {
  const updatedAt = String(line.updated_at);
  return {
    id: ticketId(conv.index),
    external_id: conv.id,
    url: `/api/v2/tickets/${ticketId(conv.index)}.json`,
    created_at: line.created_at,
    updated_at: updatedAt,
    generated_timestamp: Math.floor(Date.parse(updatedAt) / 1000),
    subject: conv.topic.replaceAll("_", " "),
    status: conv.exported < conv.messages.length ? "open" : "solved",
    via: { channel: conv.channel },
    requester_id: line.requester ? requesterUserId(conv.index) : null,
    assignee_id: agentUserId(conv.assigneeIndex),
    custom_fields: [
      { id: ticketFields.orderRef, value: conv.orderRef ?? null },
      { id: ticketFields.productRef, value: conv.productRef ?? null },
    ],
  };
}

/** A message (as its export or webhook JSON, bad ones included) as a comment of its ticket. */
export function commentOf(
  conv: Conversation,
  position: number,
  message: { author_type: string; body?: string; created_at: string },
): Record<string, unknown> {
  return {
    ticket_id: ticketId(conv.index),
    id: ticketId(conv.index) * 100 + position,
    type: "Comment",
    author_id: message.author_type === "agent" ? agentUserId(conv.assigneeIndex) : requesterUserId(conv.index),
    ...(message.body === undefined ? {} : { body: message.body }),
    public: true,
    created_at: message.created_at,
  };
}
