import { describe, expect, it } from "vitest";
import type { z } from "zod";
import {
  ChatMessage,
  chatMessageKey,
  ChatSession,
  chatSessionKey,
  messageOfWebhookEvent,
  messagesOfConversation,
  SupportAgent,
  supportAgentKey,
} from "../../assets/chat/models.ts";
import {
  Company,
  companyKey,
  Contact,
  contactKey,
  Deal,
  dealKey,
  flattenHubSpotObject,
  Interaction,
  interactionKey,
  SalesRep,
  salesRepKey,
} from "../../assets/crm/models.ts";
import {
  Category,
  categoryKey,
  Customer,
  customerKey,
  Order,
  OrderItem,
  orderItemKey,
  orderKey,
  Payment,
  paymentKey,
  Product,
  productKey,
  Review,
  reviewKey,
  Shipment,
  shipmentKey,
} from "../../assets/ec/models.ts";

// Valid source records, messy the way SOURCES.md says sources are: dates in several formats,
// numbers as strings with spaces, country codes in lower case or as names, emails in mixed case.
const source = {
  category: { category_id: "CAT-02", name: "Headphones", parent_id: "CAT-01", updated_at: "2026-03-01 14:00:00+01" },
  customer: {
    customer_id: "C-0001",
    email: "  Anna.Berg@Example.com ",
    first_name: "Anna",
    last_name: "Berg",
    phone: "030 1234567",
    country: "de",
    created_at: "01/03/2026",
    updated_at: "2026-03-02T09:30:00Z",
  },
  product: {
    product_id: "P-1001",
    sku: "AUD-WH-01",
    name: "Aurora Wireless Headphones",
    description: "<p>Over-ear <b>Bluetooth</b> headphones &amp; a case.</p><ul><li>40-hour battery</li></ul>",
    category_id: "CAT-02",
    price: " 149.00 ",
    currency: "eur",
    updated_at: new Date("2026-03-01T13:00:00Z"),
  },
  order: {
    order_id: "O-000001",
    customer_id: "C-0001",
    status: "Paid",
    ordered_at: "2026-03-01 14:00:00+01",
    currency: "EUR",
    total: "168.90",
    updated_at: "2026-03-01 15:00:00+01",
  },
  orderItem: {
    order_id: "O-000001",
    line_no: 2,
    product_id: "P-1001",
    quantity: "2",
    unit_price: "149.00",
    discount: "0,1",
    updated_at: new Date("2026-03-01T14:00:00Z"),
  },
  review: {
    review_id: "R-01",
    customer_id: "C-0001",
    product_id: "P-1001",
    rating: "5",
    title: "Great",
    body: "  Quiet and comfortable.  ",
    created_at: "2026-03-05T10:00:00+01:00",
    updated_at: new Date("2026-03-05T09:00:00Z"),
  },
  payment: {
    payment_id: "PAY-01",
    order_id: "O-000001",
    method: "card",
    amount: 168.9,
    currency: "EUR",
    paid_at: 46082.625,
  },
  shipment: {
    shipment_id: "S-01",
    order_id: "O-000001",
    carrier: "DHL",
    tracking_number: "00340434161234567890",
    shipped_at: "02/03/2026",
    delivered_at: "",
    updated_at: new Date("2026-03-02T10:00:00Z"),
  },
  company: {
    id: "1001",
    properties: {
      name: "Nordlicht GmbH",
      domain: "Nordlicht.DE",
      industry: "Retail",
      country: "Germany",
      city: "Hamburg",
    },
    createdAt: "2025-06-01T08:00:00.000Z",
    updatedAt: "2026-02-01T08:00:00.000Z",
    archived: false,
  },
  contact: {
    id: "2001",
    properties: {
      email: "JONAS.Weber@nordlicht.de ",
      firstname: "Jonas",
      lastname: "Weber",
      phone: "+49 40 1234567",
      company_id: "1001",
      jobtitle: "Buyer",
    },
    createdAt: "2025-06-02T08:00:00.000Z",
    updatedAt: "2026-02-02T08:00:00.000Z",
    archived: false,
  },
  owner: {
    id: "7",
    properties: { email: "lena.schmidt@ourshop.example", firstName: "Lena", lastName: "Schmidt", team: "DACH" },
    createdAt: "2024-04-01T08:00:00.000Z",
    updatedAt: "2026-01-10T08:00:00.000Z",
    archived: false,
  },
  rosterRow: {
    "Owner ID": 7,
    Email: "Lena.Schmidt@ourshop.example",
    Name: "Lena Schmidt",
    Team: "DACH",
    Region: "Europe",
    "Start date": 45383,
  },
  interaction: {
    interaction_id: "I-01",
    type: "Call",
    occurred_at: "2026-03-03 10:15:00+01",
    owner_id: "7",
    contact_id: "2001",
    subject: "Reorder",
    notes: "Wants 20 units\nbefore Easter.",
  },
  deal: {
    id: "3001",
    properties: {
      dealname: "Spring restock",
      dealstage: "contractsent",
      amount: "12500.50",
      currency: "EUR",
      closedate: "2026-03-31T00:00:00.000Z",
      company_id: "1001",
      owner_id: "7",
    },
    createdAt: "2026-01-05T08:00:00.000Z",
    updatedAt: "2026-03-01T08:00:00.000Z",
    archived: false,
  },
  agent: { id: "A-1", name: "Mia Kern", email: "Mia.Kern@support.example", team: "Tier 1" },
  conversation: {
    id: "conv-0001",
    created_at: "2026-03-04T09:00:00Z",
    updated_at: "2026-03-04T09:20:00Z",
    channel: "web",
    assignee_id: "A-1",
    requester: { email: " Anna.Berg@Example.com", name: "Anna Berg" },
    order_ref: "O-000001",
    messages: [
      { id: "m-1", author_type: "user", body: "Where is my order?", created_at: "2026-03-04T09:00:00Z" },
      {
        id: "m-2",
        author_type: "agent",
        author_id: "A-1",
        body: "It ships today.",
        created_at: "2026-03-04T09:05:00Z",
      },
    ],
  },
};

describe("valid source records", () => {
  const cases: [string, z.ZodType, unknown, Record<string, unknown>, (r: never) => string, string][] = [
    [
      "Category",
      Category,
      source.category,
      {
        categoryId: "CAT-02",
        name: "Headphones",
        parentId: "CAT-01",
        updatedAt: "2026-03-01T13:00:00.000Z",
      },
      categoryKey,
      "CAT-02",
    ],
    [
      "Customer",
      Customer,
      source.customer,
      {
        customerId: "C-0001",
        email: "anna.berg@example.com",
        firstName: "Anna",
        lastName: "Berg",
        phone: "+49301234567",
        country: "DE",
        createdAt: "2026-03-01T00:00:00.000Z",
        updatedAt: "2026-03-02T09:30:00.000Z",
      },
      customerKey,
      "C-0001",
    ],
    [
      "Product",
      Product,
      source.product,
      {
        productId: "P-1001",
        sku: "AUD-WH-01",
        name: "Aurora Wireless Headphones",
        description: "Over-ear Bluetooth headphones & a case. 40-hour battery",
        categoryId: "CAT-02",
        price: 149,
        currency: "EUR",
        updatedAt: "2026-03-01T13:00:00.000Z",
      },
      productKey,
      "P-1001",
    ],
    [
      "Order",
      Order,
      source.order,
      {
        orderId: "O-000001",
        customerId: "C-0001",
        status: "paid",
        orderedAt: "2026-03-01T13:00:00.000Z",
        currency: "EUR",
        total: 168.9,
        updatedAt: "2026-03-01T14:00:00.000Z",
      },
      orderKey,
      "O-000001",
    ],
    [
      "OrderItem",
      OrderItem,
      source.orderItem,
      {
        orderId: "O-000001",
        lineNo: 2,
        productId: "P-1001",
        quantity: 2,
        unitPrice: 149,
        discount: 0.1,
        updatedAt: "2026-03-01T14:00:00.000Z",
      },
      orderItemKey,
      "O-000001:2",
    ],
    [
      "Review",
      Review,
      source.review,
      {
        reviewId: "R-01",
        customerId: "C-0001",
        productId: "P-1001",
        rating: 5,
        title: "Great",
        body: "Quiet and comfortable.",
        createdAt: "2026-03-05T09:00:00.000Z",
        updatedAt: "2026-03-05T09:00:00.000Z",
      },
      reviewKey,
      "R-01",
    ],
    [
      "Payment",
      Payment,
      source.payment,
      {
        paymentId: "PAY-01",
        orderId: "O-000001",
        method: "card",
        amount: 168.9,
        currency: "EUR",
        paidAt: "2026-03-01T15:00:00.000Z",
      },
      paymentKey,
      "PAY-01",
    ],
    [
      "Shipment",
      Shipment,
      source.shipment,
      {
        shipmentId: "S-01",
        orderId: "O-000001",
        carrier: "DHL",
        trackingNumber: "00340434161234567890",
        shippedAt: "2026-03-02T00:00:00.000Z",
        deliveredAt: null,
        updatedAt: "2026-03-02T10:00:00.000Z",
      },
      shipmentKey,
      "S-01",
    ],
    [
      "Company",
      Company,
      source.company,
      {
        companyId: "1001",
        name: "Nordlicht GmbH",
        domain: "nordlicht.de",
        industry: "Retail",
        country: "DE",
        city: "Hamburg",
        createdAt: "2025-06-01T08:00:00.000Z",
        updatedAt: "2026-02-01T08:00:00.000Z",
      },
      companyKey,
      "1001",
    ],
    [
      "Contact",
      Contact,
      source.contact,
      {
        contactId: "2001",
        email: "jonas.weber@nordlicht.de",
        firstName: "Jonas",
        lastName: "Weber",
        phone: "+49401234567",
        companyId: "1001",
        jobTitle: "Buyer",
        createdAt: "2025-06-02T08:00:00.000Z",
        updatedAt: "2026-02-02T08:00:00.000Z",
        phoneAsEntered: null,
      },
      contactKey,
      "2001",
    ],
    [
      "SalesRep (owner)",
      SalesRep,
      source.owner,
      {
        salesRepId: "7",
        email: "lena.schmidt@ourshop.example",
        name: "Lena Schmidt",
        firstName: "Lena",
        lastName: "Schmidt",
        team: "DACH",
        region: null,
        startDate: null,
        createdAt: "2024-04-01T08:00:00.000Z",
        updatedAt: "2026-01-10T08:00:00.000Z",
      },
      salesRepKey,
      "7",
    ],
    [
      "SalesRep (roster row)",
      SalesRep,
      source.rosterRow,
      {
        salesRepId: "7",
        email: "lena.schmidt@ourshop.example",
        name: "Lena Schmidt",
        firstName: null,
        lastName: null,
        team: "DACH",
        region: "Europe",
        startDate: "2024-04-01T00:00:00.000Z",
        createdAt: null,
        updatedAt: null,
      },
      salesRepKey,
      "7",
    ],
    [
      "Interaction",
      Interaction,
      source.interaction,
      {
        interactionId: "I-01",
        type: "call",
        occurredAt: "2026-03-03T09:15:00.000Z",
        salesRepId: "7",
        contactId: "2001",
        subject: "Reorder",
        notes: "Wants 20 units\nbefore Easter.",
      },
      interactionKey,
      "I-01",
    ],
    [
      "Deal",
      Deal,
      source.deal,
      {
        dealId: "3001",
        name: "Spring restock",
        stage: "contractsent",
        amount: 12500.5,
        currency: "EUR",
        closeDate: "2026-03-31T00:00:00.000Z",
        companyId: "1001",
        salesRepId: "7",
        createdAt: "2026-01-05T08:00:00.000Z",
        updatedAt: "2026-03-01T08:00:00.000Z",
      },
      dealKey,
      "3001",
    ],
    [
      "SupportAgent",
      SupportAgent,
      source.agent,
      {
        agentId: "A-1",
        name: "Mia Kern",
        email: "mia.kern@support.example",
        team: "Tier 1",
      },
      supportAgentKey,
      "A-1",
    ],
    [
      "ChatSession",
      ChatSession,
      source.conversation,
      {
        sessionId: "conv-0001",
        channel: "web",
        agentId: "A-1",
        requesterEmail: "anna.berg@example.com",
        requesterName: "Anna Berg",
        orderId: "O-000001",
        productId: null,
        createdAt: "2026-03-04T09:00:00.000Z",
        updatedAt: "2026-03-04T09:20:00.000Z",
      },
      chatSessionKey,
      "conv-0001",
    ],
  ];

  it.each(cases)("%s", (_name, model, raw, expected, key, expectedKey) => {
    const parsed = model.parse(raw);
    expect(parsed).toStrictEqual(expected);
    expect(key(parsed as never)).toBe(expectedKey);
  });

  it("reads a model's own output again to the same record", () => {
    const customer = Customer.parse(source.customer);
    expect(Customer.parse(customer)).toStrictEqual(customer);
    const deal = Deal.parse(source.deal);
    expect(Deal.parse(deal)).toStrictEqual(deal);
  });

  it("reads HubSpot objects flat or as the API gives them", () => {
    expect(flattenHubSpotObject(source.company)).toStrictEqual({
      name: "Nordlicht GmbH",
      domain: "Nordlicht.DE",
      industry: "Retail",
      country: "Germany",
      city: "Hamburg",
      id: "1001",
      createdAt: "2025-06-01T08:00:00.000Z",
      updatedAt: "2026-02-01T08:00:00.000Z",
      archived: false,
    });
    expect(Company.parse(flattenHubSpotObject(source.company))).toStrictEqual(Company.parse(source.company));
    expect(flattenHubSpotObject("x")).toBe("x");
  });

  it("reads a roster start date given as a Date, as exceljs gives date cells", () => {
    const row = { ...source.rosterRow, "Start date": new Date(Date.UTC(2024, 3, 1)) };
    expect(SalesRep.parse(row).startDate).toBe("2024-04-01T00:00:00.000Z");
  });

  it("parses a conversation's messages, with the conversation id attached", () => {
    expect(messagesOfConversation(source.conversation).map((m) => ChatMessage.parse(m))).toStrictEqual([
      {
        messageId: "m-1",
        sessionId: "conv-0001",
        senderType: "user",
        senderId: null,
        text: "Where is my order?",
        sentAt: "2026-03-04T09:00:00.000Z",
      },
      {
        messageId: "m-2",
        sessionId: "conv-0001",
        senderType: "agent",
        senderId: "A-1",
        text: "It ships today.",
        sentAt: "2026-03-04T09:05:00.000Z",
      },
    ]);
    const message = ChatMessage.parse(messagesOfConversation(source.conversation)[1]);
    expect(chatMessageKey(message)).toBe("conv-0001:m-2");
    expect(messagesOfConversation({ id: "conv-0002" })).toEqual([]);
  });

  it("parses a webhook delivery's message like an exported one", () => {
    const event = {
      event: "message.created",
      delivered_at: "2026-03-05T08:00:01Z",
      conversation_id: "conv-0001",
      message: { id: "m-3", author_type: "user", body: "Thanks!", created_at: "2026-03-05T08:00:00Z" },
    };
    expect(ChatMessage.parse(messageOfWebhookEvent(event))).toStrictEqual({
      messageId: "m-3",
      sessionId: "conv-0001",
      senderType: "user",
      senderId: null,
      text: "Thanks!",
      sentAt: "2026-03-05T08:00:00.000Z",
    });
  });
});

/** The issues of a failing parse as `path: message`, the way a dead-letter row shows them. */
const issuesOf = (model: z.ZodType, raw: unknown): string[] => {
  const result = model.safeParse(raw);
  expect(result.success).toBe(false);
  return result.error!.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

const withProps = <T extends { properties: object }>(o: T, properties: object) => ({
  ...o,
  properties: { ...o.properties, ...properties },
});

describe("deliberately bad records", () => {
  describe("a required field missing", () => {
    it.each<[string, z.ZodType, unknown, string]>([
      ["Category", Category, { ...source.category, name: "" }, "name: Required"],
      ["Customer", Customer, { ...source.customer, email: undefined }, "email: Required"],
      ["Customer", Customer, { ...source.customer, customer_id: null }, "customerId: Required"],
      ["Product", Product, { ...source.product, name: "   " }, "name: Required"],
      ["Order", Order, { ...source.order, customer_id: "" }, "customerId: Required"],
      ["Order", Order, { ...source.order, ordered_at: "" }, "orderedAt: Required"],
      ["OrderItem", OrderItem, { ...source.orderItem, product_id: null }, "productId: Required"],
      ["OrderItem", OrderItem, { ...source.orderItem, quantity: "" }, "quantity: Required"],
      ["Review", Review, { ...source.review, rating: null }, "rating: Required"],
      ["Payment", Payment, { ...source.payment, amount: "" }, "amount: Required"],
      ["Shipment", Shipment, { ...source.shipment, order_id: undefined }, "orderId: Required"],
      ["Company", Company, withProps(source.company, { name: null }), "name: Required"],
      ["Contact", Contact, withProps(source.contact, { email: "" }), "email: Required"],
      ["SalesRep", SalesRep, { ...source.rosterRow, Name: "" }, "name: Required"],
      ["Interaction", Interaction, { ...source.interaction, contact_id: "" }, "contactId: Required"],
      ["Deal", Deal, withProps(source.deal, { dealstage: "" }), "stage: Required"],
      ["SupportAgent", SupportAgent, { ...source.agent, id: "" }, "agentId: Required"],
      ["ChatSession", ChatSession, { ...source.conversation, requester: { name: "Anna" } }, "requesterEmail: Required"],
      ["ChatMessage", ChatMessage, {
        id: "m-9",
        conversation_id: "conv-0001",
        author_type: "user",
        created_at: "2026-03-04",
      }, "text: Required"],
    ])("%s", (_name, model, raw, issue) => {
      expect(issuesOf(model, raw)).toEqual([issue]);
    });
  });

  describe("an invalid email", () => {
    it.each<[string, z.ZodType, unknown, string]>([
      [
        "Customer",
        Customer,
        { ...source.customer, email: "anna.berg.example.com" },
        'email: Invalid email address "anna.berg.example.com"',
      ],
      ["Contact", Contact, withProps(source.contact, { email: "jonas@" }), 'email: Invalid email address "jonas@"'],
      [
        "SalesRep",
        SalesRep,
        withProps(source.owner, { email: "lena schmidt@ourshop.example" }),
        'email: Invalid email address "lena schmidt@ourshop.example"',
      ],
      [
        "SupportAgent",
        SupportAgent,
        { ...source.agent, email: "mia@support" },
        'email: Invalid email address "mia@support"',
      ],
      [
        "ChatSession",
        ChatSession,
        { ...source.conversation, requester: { email: "@example.com" } },
        'requesterEmail: Invalid email address "@example.com"',
      ],
    ])("%s", (_name, model, raw, issue) => {
      expect(issuesOf(model, raw)).toEqual([issue]);
    });
  });

  describe("a negative quantity", () => {
    it.each<[string, unknown, string]>([
      ["-1", { ...source.orderItem, quantity: -1 }, "quantity: Must be positive"],
      ["' -3 '", { ...source.orderItem, quantity: " -3 " }, "quantity: Must be positive"],
      ["0", { ...source.orderItem, quantity: 0 }, "quantity: Must be positive"],
      ["1.5", { ...source.orderItem, quantity: 1.5 }, "quantity: Must be a whole number"],
    ])("OrderItem quantity %s", (_name, raw, issue) => {
      expect(issuesOf(OrderItem, raw)).toEqual([issue]);
    });

    it("and the other amounts and fractions out of range", () => {
      expect(issuesOf(OrderItem, { ...source.orderItem, unit_price: "-149.00" })).toEqual([
        "unitPrice: Must not be negative",
      ]);
      expect(issuesOf(OrderItem, { ...source.orderItem, discount: 1.2 })).toEqual([
        "discount: Must be a fraction between 0 and 1",
      ]);
      expect(issuesOf(Payment, { ...source.payment, amount: -1 })).toEqual(["amount: Must not be negative"]);
      expect(issuesOf(Order, { ...source.order, total: "-5" })).toEqual(["total: Must not be negative"]);
    });
  });

  describe("a rating outside 1–5", () => {
    it.each<[unknown, string]>([
      [0, "rating: Number must be between 1 and 5"],
      [6, "rating: Number must be between 1 and 5"],
      ["-1", "rating: Number must be between 1 and 5"],
      [4.5, "rating: Must be a whole number"],
    ])("Review rating %j", (rating, issue) => {
      expect(issuesOf(Review, { ...source.review, rating })).toEqual([issue]);
    });
  });

  describe("an unknown currency", () => {
    it.each<[string, z.ZodType, unknown, string]>([
      ["Product", Product, { ...source.product, currency: "XYZ" }, 'currency: Unknown ISO 4217 currency code "XYZ"'],
      ["Order", Order, { ...source.order, currency: "EU" }, 'currency: Unknown ISO 4217 currency code "EU"'],
      ["Payment", Payment, { ...source.payment, currency: "€" }, 'currency: Unknown ISO 4217 currency code "€"'],
      ["Deal", Deal, withProps(source.deal, { currency: "ABC" }), 'currency: Unknown ISO 4217 currency code "ABC"'],
    ])("%s", (_name, model, raw, issue) => {
      expect(issuesOf(model, raw)).toEqual([issue]);
    });
  });

  describe("an unparseable date", () => {
    it.each<[string, z.ZodType, unknown, string]>([
      ["Category", Category, { ...source.category, updated_at: "yesterday" }, 'updatedAt: Invalid date "yesterday"'],
      ["Customer", Customer, { ...source.customer, created_at: "31/02/2026" }, 'createdAt: Invalid date "31/02/2026"'],
      ["Product", Product, { ...source.product, updated_at: "2026-13-01" }, 'updatedAt: Invalid date "2026-13-01"'],
      [
        "Order",
        Order,
        { ...source.order, ordered_at: "2026-03-01 25:00:00+01" },
        'orderedAt: Invalid date "2026-03-01 25:00:00+01"',
      ],
      ["Review", Review, { ...source.review, created_at: "soon" }, 'createdAt: Invalid date "soon"'],
      ["Payment", Payment, { ...source.payment, paid_at: "32/01/2026" }, 'paidAt: Invalid date "32/01/2026"'],
      ["Shipment", Shipment, { ...source.shipment, delivered_at: "n/a" }, 'deliveredAt: Invalid date "n/a"'],
      ["Company", Company, { ...source.company, updatedAt: "not a date" }, 'updatedAt: Invalid date "not a date"'],
      [
        "Interaction",
        Interaction,
        { ...source.interaction, occurred_at: "03/15/2026" },
        'occurredAt: Invalid date "03/15/2026"',
      ],
      ["Deal", Deal, withProps(source.deal, { closedate: "Q2 2026" }), 'closeDate: Invalid date "Q2 2026"'],
      [
        "ChatSession",
        ChatSession,
        { ...source.conversation, created_at: "2026-02-30T10:00:00Z" },
        'createdAt: Invalid date "2026-02-30T10:00:00Z"',
      ],
      ["ChatMessage", ChatMessage, {
        ...source.conversation.messages[0],
        conversation_id: "conv-0001",
        created_at: "today",
      }, 'sentAt: Invalid date "today"'],
    ])("%s", (_name, model, raw, issue) => {
      expect(issuesOf(model, raw)).toEqual([issue]);
    });
  });

  describe("a price that is not a number", () => {
    it.each<[string, z.ZodType, unknown, string]>([
      ["Product", Product, { ...source.product, price: "abc" }, 'price: Invalid number "abc"'],
      ["Product", Product, { ...source.product, price: "149.00 EUR" }, 'price: Invalid number "149.00 EUR"'],
      ["OrderItem", OrderItem, { ...source.orderItem, unit_price: "1.234,50" }, 'unitPrice: Invalid number "1.234,50"'],
      ["Order", Order, { ...source.order, total: "n/a" }, 'total: Invalid number "n/a"'],
      ["Payment", Payment, { ...source.payment, amount: "twelve" }, 'amount: Invalid number "twelve"'],
      ["Deal", Deal, withProps(source.deal, { amount: "12,500.50" }), 'amount: Invalid number "12,500.50"'],
    ])("%s", (_name, model, raw, issue) => {
      expect(issuesOf(model, raw)).toEqual([issue]);
    });
  });

  describe("other values the models refuse", () => {
    it.each<[string, z.ZodType, unknown, string]>([
      [
        "an unknown order status",
        Order,
        { ...source.order, status: "lost" },
        'status: Invalid option "lost": expected one of placed, paid, shipped, delivered, cancelled',
      ],
      [
        "an unknown interaction type",
        Interaction,
        { ...source.interaction, type: "fax" },
        'type: Invalid option "fax": expected one of call, email, meeting',
      ],
      ["an invalid customer phone", Customer, { ...source.customer, phone: "12" }, 'phone: Invalid phone number "12"'],
      [
        "an unknown country",
        Company,
        withProps(source.company, { country: "Atlantis" }),
        'country: Unknown country "Atlantis"',
      ],
      ["a message from nobody known", ChatMessage, {
        ...source.conversation.messages[0],
        conversation_id: "conv-0001",
        author_type: "bot",
      }, 'senderType: Invalid option "bot": expected one of user, agent'],
    ])("%s", (_name, model, raw, issue) => {
      expect(issuesOf(model, raw)).toEqual([issue]);
    });

    it("keeps a contact whose phone cannot be normalised, with the phone as entered", () => {
      // National, read in the country of the email's domain (.de).
      expect(Contact.parse(withProps(source.contact, { phone: "040 1234567" }))).toMatchObject({
        phone: "+49401234567",
        phoneAsEntered: null,
      });
      // No country to read it in: not normalised, not lost.
      expect(Contact.parse(withProps(source.contact, { email: "jonas@example.com", phone: "0131 246 8069" })))
        .toMatchObject({
          phone: null,
          phoneAsEntered: "0131 246 8069",
        });
    });

    it("reports every issue of a record, and a record that is not an object", () => {
      expect(issuesOf(Review, { ...source.review, rating: 9, product_id: "", created_at: "x" })).toEqual([
        "productId: Required",
        "rating: Number must be between 1 and 5",
        'createdAt: Invalid date "x"',
      ]);
      expect(issuesOf(Order, null)).toEqual([": Invalid input: expected object, received null"]);
    });
  });
});
