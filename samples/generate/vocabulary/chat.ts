import { pick, type Random } from "../random.ts";
import type { LeafVocabulary } from "./leaf.ts";

export const topics = ["where_is_my_order", "refund", "product_broke", "how_to_use", "pre_sales"] as const;
export type Topic = (typeof topics)[number];

/** What a conversation is about: the customer's real order and product when the requester is a customer. */
export interface ChatSubject {
  topic: Topic;
  firstName: string;
  productName: string;
  vocabulary: LeafVocabulary;
  order?: {
    id: string;
    orderedOn: string;
    paymentMethod: string;
    shipment?: { carrier: string; trackingNumber: string; shippedOn: string; delivered: boolean };
  };
}

const paymentWords: Record<string, string> = {
  card: "card",
  paypal: "PayPal account",
  bank_transfer: "bank account",
  invoice: "bank account",
};
const returnReasons = [
  "It's not what I expected.",
  "It doesn't really fit my needs.",
  "It arrived damaged.",
  "I ordered the wrong model by mistake.",
  "I found it cheaper elsewhere.",
];

function opening(random: Random, s: ChatSubject): string[] {
  const order = s.order;
  const product = s.productName;
  const tip = pick(random, s.vocabulary.tips);
  switch (s.topic) {
    case "where_is_my_order": {
      const shipment = order?.shipment;
      const carrier = shipment?.carrier ?? "the courier";
      return [
        pick(random, [
          `Hi, I ordered the ${product} on ${order?.orderedOn} (order ${order?.id}) and it still hasn't arrived. Where is it?`,
          `Hello! Any update on order ${order?.id}? I'm still waiting for the ${product}.`,
          `Where is my order ${order?.id}? The tracking hasn't changed for days.`,
        ]),
        shipment
          ? `Thanks for waiting, ${s.firstName}! Order ${order?.id} left our warehouse on ${shipment.shippedOn} with ${shipment.carrier}; the tracking number is ${shipment.trackingNumber}.` +
            (shipment.delivered
              ? " It shows as delivered, could you check with your neighbours or the mailroom?"
              : " It should reach you within the next two working days.")
          : `Hi ${s.firstName}, order ${order?.id} hasn't shipped yet: we're waiting for new stock of the ${product}, and your parcel goes out on Monday.`,
        ...pick(random, [
          ["Thanks, I'll keep an eye on the tracking.", "You're welcome! Is there anything else I can help with?"],
          [
            `It says delivered, but there's nothing here. Can you check with ${carrier}?`,
            `I've opened a trace with ${carrier}; you'll hear from us within 48 hours.`,
          ],
          [
            "Can I change the delivery address to my office?",
            "Done, I've updated the address and the courier will deliver there instead.",
          ],
        ]),
      ];
    }
    case "refund":
      return [
        `I'd like to return the ${product} from order ${order?.id} and get a refund. ${pick(random, returnReasons)}`,
        `Sorry to hear that, ${s.firstName}. I've emailed you a prepaid return label for order ${order?.id}; please send it back within 30 days.`,
        pick(random, ["Thanks. When will I get my money back?", "OK, sent it today. How long does the refund take?"]),
        `The refund goes back to your ${
          paymentWords[order?.paymentMethod ?? "card"] ?? "card"
        } within 5 to 7 working days after the parcel reaches our warehouse.`,
      ];
    case "product_broke":
      return [
        pick(random, [
          `My ${product} from order ${order?.id} has a problem: ${
            pick(random, s.vocabulary.complaints)
          }. What can I do?`,
          `Hi, ${pick(random, s.vocabulary.complaints)}. It's the ${product} I bought in order ${order?.id}.`,
        ]),
        `I'm really sorry about that, ${s.firstName}. You have a two-year warranty on the ${product}. Could you send a photo or a short video of the problem?`,
        pick(random, ["Sure, I've attached a photo.", "Here's a short video showing the problem."]),
        pick(random, [
          "Thanks, that's clearly a defect. A replacement is on its way, and you don't need to send the faulty one back.",
          "Thank you. I've arranged a free repair; a courier will collect it tomorrow.",
          `Thanks! I've issued a full refund to your ${paymentWords[order?.paymentMethod ?? "card"] ?? "card"}.`,
        ]),
      ];
    case "how_to_use":
      return [
        `${tip[0]} I just got the ${product}.`,
        `Good question! For the ${product}, ${tip[1]}.`,
        ...pick(random, [
          ["That worked, thanks!", "Glad to hear it!"],
          ["Great, and is there a manual online?", "Yes, the manual is on the product page under Downloads."],
          ["Thanks, that helps.", "You're welcome! Enjoy it."],
        ]),
      ];
    case "pre_sales": {
      const feature = pick(random, s.vocabulary.features);
      const use = pick(random, s.vocabulary.uses);
      return [
        `Hi! Does the ${product} come with ${feature}? I need it for ${use}.`,
        `Hi ${s.firstName}! Yes, you get ${feature} with the ${product}, and it's a popular choice for ${use}.`,
        ...pick(random, [
          [
            "Great. How fast is delivery?",
            "Orders placed before 3 pm ship the same day; delivery takes 1 to 3 working days.",
          ],
          ["Nice. Can I pay by invoice?", "Yes, invoice is available for orders up to 1,000 EUR."],
          ["And what's the warranty?", "Two years on everything, and 30 days to return it for any reason."],
        ]),
      ];
    }
  }
}

/** At least eight message bodies, user first, alternating with the agent; a conversation takes a prefix. */
export function conversationBodies(random: Random, subject: ChatSubject): string[] {
  return [
    ...opening(random, subject),
    pick(random, ["Thanks for your help!", "Perfect, thank you.", "That's all, thanks."]),
    pick(random, [
      `You're welcome, ${subject.firstName}! Have a great day.`,
      "Happy to help. Take care!",
      "Anytime! I'll close this conversation now.",
    ]),
    pick(random, ["Bye!", "Cheers.", "Thanks again."]),
    pick(random, ["Goodbye!", "Have a nice evening!", "Take care."]),
  ];
}
