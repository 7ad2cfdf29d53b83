import {
  agentOfConversation,
  conversationStartedAt,
  customerOfConversation,
  ids,
  isOngoing,
  orderedAt,
  ordersOfCustomer,
} from "../links.ts";
import { badReasonOf } from "../defects.ts";
import { intBetween, pick, recordStream, streamTag, weighted } from "../random.ts";
import { customer } from "../shop/customers.ts";
import { order } from "../shop/orders.ts";
import { type Product, product } from "../shop/products.ts";
import { DAY, EXPORT_CUTOFF, MINUTE } from "../time.ts";
import { type ChatSubject, conversationBodies, type Topic } from "../vocabulary/chat.ts";
import { countryWeights, emailPart, globalEmailDomains, retypedEmail } from "../vocabulary/people.ts";
import type { World } from "../world.ts";

const CONVERSATION = streamTag("chat.conversations");

export interface ChatMessage {
  position: number;
  id: string;
  authorType: "user" | "agent";
  authorId: string | undefined;
  body: string;
  createdAt: number;
}

export interface Conversation {
  index: number;
  id: string;
  startedAt: number;
  channel: string;
  assigneeIndex: number;
  requester: { name: string; email: string; customerIndex: number | undefined };
  topic: Topic;
  orderRef: string | undefined;
  productRef: string | undefined;
  messages: ChatMessage[];
  /** Messages [0, exported) are in the export; later ones arrive by webhook. */
  exported: number;
  /** The export's updated_at: shortly after its last exported message. */
  updatedAt: number;
}

const months = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const longDate = (ms: number) => {
  const d = new Date(ms);
  return `${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
};

/** How people name a product in a sentence ("the copy of "The Quiet Harbour"" for a book). */
function spokenName(item: Product): string {
  return item.vocabulary.titles ? `copy of "${item.name.replace(/ \(.*\)$/, "")}"` : item.name;
}

/** The customer's latest good order placed at least a day before the conversation (else any good one). */
function orderToDiscuss(world: World, customerIndex: number, startedAt: number): number {
  let latest: number | undefined;
  let anyGood: number | undefined;
  for (const i of ordersOfCustomer(world, customerIndex)) {
    if (badReasonOf("orders", i) !== undefined) continue;
    anyGood ??= i;
    if (orderedAt(world, i) < startedAt - DAY) latest = i;
  }
  const chosen = latest ?? anyGood;
  if (chosen === undefined) throw new Error(`customer ${customerIndex} has no good order`);
  return chosen;
}

function subjectFor(
  world: World,
  random: () => number,
  startedAt: number,
  firstName: string,
  customerIndex: number | undefined,
) {
  if (customerIndex === undefined) {
    const products = world.sizes.products;
    const item = product(world, (Math.floor(products * random() ** 1.3) * world.productStep) % products);
    const topic: Topic = weighted(random, [["pre_sales", 60], ["how_to_use", 40]] as const);
    const subject: ChatSubject = { topic, firstName, productName: spokenName(item), vocabulary: item.vocabulary };
    return { subject, orderRef: undefined, productRef: item.id };
  }
  const o = order(world, orderToDiscuss(world, customerIndex, startedAt));
  const item = product(world, pick(random, o.lines).productIndex);
  const recent = startedAt - o.orderedAt < 21 * DAY;
  let topic: Topic = recent && random() < 0.6
    ? "where_is_my_order"
    : weighted(random, [["refund", 35], ["product_broke", 35], ["how_to_use", 30]] as const);
  // a book is returned, not repaired
  if (topic === "product_broke" && item.vocabulary.titles) topic = "refund";
  const s = o.shipment && o.shipment.shippedAt < startedAt ? o.shipment : undefined;
  const subject: ChatSubject = {
    topic,
    firstName,
    productName: spokenName(item),
    vocabulary: item.vocabulary,
    order: {
      id: o.id,
      orderedOn: longDate(o.orderedAt),
      paymentMethod: o.payment.method,
      shipment: s &&
        {
          carrier: s.carrier,
          trackingNumber: s.trackingNumber,
          shippedOn: longDate(s.shippedAt),
          delivered: s.deliveredAt !== undefined && s.deliveredAt < startedAt,
        },
    },
  };
  return { subject, orderRef: o.id, productRef: item.id };
}

/**
 * Conversation `c`: a customer asking about one of their real orders (40 %), or someone else asking about a
 * product before buying or how to use it. Messages alternate user and agent, two to seven of them.
 */
export function conversation(world: World, c: number): Conversation {
  const random = recordStream(world.seed, CONVERSATION, c);
  const startedAt = conversationStartedAt(world, c);
  const customerIndex = customerOfConversation(world, c);
  const assigneeIndex = agentOfConversation(world, c);
  const channel = weighted(random, [["chat", 60], ["email", 30], ["whatsapp", 10]] as const);
  let firstName: string, name: string, email: string;
  if (customerIndex !== undefined) {
    const person = customer(world, customerIndex);
    firstName = person.firstName;
    name = `${person.firstName} ${person.lastName}`;
    email = retypedEmail(random, person.email);
  } else {
    const country = weighted(random, countryWeights);
    firstName = pick(random, country.firstNames);
    const lastName = pick(random, country.lastNames);
    name = `${firstName} ${lastName}`;
    // underscore and number: never the shape of a customer's address, so never the same person by accident
    email = `${emailPart(firstName)}_${emailPart(lastName)}${c + 1}@${pick(random, globalEmailDomains)}`;
  }
  const { subject, orderRef, productRef } = subjectFor(world, random, startedAt, firstName, customerIndex);
  const bodies = conversationBodies(random, subject);
  const count = intBetween(random, 2, 7);
  const ongoing = isOngoing(world, c);
  const exported = ongoing ? Math.max(1, Math.floor(count / 2)) : count;
  const exportGap = ongoing ? Math.floor((EXPORT_CUTOFF - 10 * MINUTE - startedAt) / exported) : 0;
  const webhookGap = intBetween(random, 5, 120) * MINUTE;
  const agentId = ids.agent(assigneeIndex);
  const messages: ChatMessage[] = [];
  let at = startedAt;
  for (let position = 0; position < count; position++) {
    if (ongoing) {
      at = position < exported
        ? startedAt + position * exportGap
        : EXPORT_CUTOFF + (position - exported + 1) * webhookGap;
    } else if (position > 0) at += intBetween(random, 2, 240) * MINUTE + intBetween(random, 0, 59) * 1000;
    const fromUser = position % 2 === 0;
    messages.push({
      position,
      id: ids.message(c, position),
      authorType: fromUser ? "user" : "agent",
      authorId: fromUser ? undefined : agentId,
      body: bodies[position] ?? "Thanks!",
      createdAt: at,
    });
  }
  const lastExported = (messages[exported - 1] as ChatMessage).createdAt;
  return {
    index: c,
    id: ids.conversation(c),
    startedAt,
    channel,
    assigneeIndex,
    requester: { name, email, customerIndex },
    topic: subject.topic,
    orderRef,
    productRef,
    messages,
    exported,
    updatedAt: lastExported + intBetween(random, 1, 5) * MINUTE,
  };
}
