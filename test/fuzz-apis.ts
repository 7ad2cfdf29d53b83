import fc from "fast-check";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import { ChatSession, chatSessionKey, sessionOfTicket } from "../assets/chat/models.ts";
import { Contact, contactKey } from "../assets/crm/models.ts";
import { Payment, paymentKey, paymentOfCharge } from "../assets/ec/models.ts";
import { ChatClient } from "../connectors/chat-api/index.ts";
import { CrmClient } from "../connectors/crm-api/index.ts";
import { GraphqlClient } from "../connectors/graphql/index.ts";
import { PaymentsClient } from "../connectors/payments-api/index.ts";
import { createLogger } from "../resources/logger.ts";
import {
  fieldValue,
  hostileText,
  hugeNumbers,
  megabyteText,
  nestedJson,
  oddDates,
  unicodeEmails,
} from "./fuzz-inputs.ts";

/**
 * The API sources the fuzz tests serve: a local server answering each request with the next response a case
 * planned, and for each API client (CRM, chat, payments, GraphQL) the records its pages hold, a good page's body,
 * the bodies it must refuse, and the bundled asset's mapping and model for what it yields.
 */

/** A response a case plans: its status and body, exactly as sent. */
export interface PlannedResponse {
  status: number;
  body: string | Uint8Array;
}

/** A local API answering each request with the next planned response (an OAuth token request with a token). */
export async function plannedApi() {
  let planned: PlannedResponse[] = [];
  let served = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      if (request.url?.startsWith("/oauth/token")) {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ access_token: "fuzz-token", expires_in: 3600 }));
        return;
      }
      const next = planned.shift() ?? { status: 410, body: "no response planned" };
      served += 1;
      response.writeHead(next.status, { "content-type": "application/json" });
      response.end(next.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Plans the responses to the next requests, in order. */
    plan(responses: PlannedResponse[]) {
      planned = [...responses];
    },
    get served() {
      return served;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A client quick to retry (twice in all), with no rate limit to wait out, and quiet. */
export const quickClient = {
  requestsPerSecond: 1e6,
  burst: 1e6,
  maxAttempts: 2,
  backoffMs: 1,
  maxBackoffMs: 2,
  timeoutMs: 5_000,
  logger: createLogger({ write: () => {} }),
};

/** Records as an API sends them that are odd: not objects, huge numbers, lone surrogates, prototype keys, deep. */
const oddRecords = [
  "null",
  "42",
  '"text"',
  "[]",
  "{}",
  '{"id":"proto","__proto__":{"polluted":true},"constructor":{"name":"x"}}',
  '{"id":"huge","amount":1e400,"created":1e400,"updated_at":-1e400}',
  '{"id":"\\ud83d","external_id":"cut \\udfff","email":"\\ud800@example.com"}',
  `{"id":"deep","nested":${nestedJson(3_000, true)}}`,
  '{"id":123456789012345678901234567890}',
];

/** One record's JSON text: the API's shape with hostile values mostly, else an odd record, 1 MiB rarely. */
const recordText = (shape: fc.Arbitrary<unknown>) =>
  fc.oneof(
    { arbitrary: shape.map((r) => JSON.stringify(r)), weight: 40 },
    { arbitrary: fc.constantFrom(...oddRecords), weight: 8 },
    { arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? "null"), weight: 4 },
    { arbitrary: fc.constant(JSON.stringify({ id: "mb", name: megabyteText })), weight: 1 },
  );

const time = fc.oneof(
  { arbitrary: fieldValue("timestamp"), weight: 8 },
  { arbitrary: fc.constantFrom(...oddDates), weight: 1 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.constant(null), weight: 1 },
);
const email = fc.oneof({ arbitrary: fieldValue("email"), weight: 4 }, fc.constantFrom(...unicodeEmails));

/** Bodies no client takes as a page: not JSON, cut short, binary, empty, markup, JSON of another shape. */
export const garbageBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 200 }),
  fc.constantFrom("", "   ", "<html><body>502 Bad Gateway</body></html>", "null", "42", '"text"', "[]", "{oops"),
  fc.constant(nestedJson(100_000)),
  hostileText.filter((t) => {
    try {
      const v = JSON.parse(t);
      return v === null || typeof v !== "object";
    } catch {
      return true;
    }
  }),
);

/** A kind of API: what a case of it is made of, how its client reads it, and what the bundled asset makes of it. */
export interface ApiKind {
  name: string;
  /** The client's name for the API, first in its errors. */
  apiName: string;
  record: fc.Arbitrary<string>;
  /** A good page's body: its records, where it is in the list, whether it is the last. */
  page(records: string[], index: number, last: boolean): string;
  /** Bodies of this API's shape that its client must refuse as a whole page. */
  brokenPage: fc.Arbitrary<string>;
  /** The items a good page gives (in the client's terms: the API's records, merged or as bad rows). */
  items(body: string): unknown[];
  read(url: string): AsyncIterable<unknown>;
  /** The bundled asset's mapping of an item to a source record, and the model it is parsed with. */
  staged: {
    map(item: unknown): unknown;
    model: z.ZodType<unknown>;
    sourceKey(record: unknown): string;
    rawKey(raw: unknown): unknown;
    updatedAt?(record: unknown): string;
  };
}

const crm: ApiKind = {
  name: "crm-api",
  apiName: "CRM API",
  record: recordText(fc.record({
    id: fieldValue("id"),
    properties: fc.oneof(
      fc.record({
        email,
        firstname: fieldValue("text"),
        lastname: fieldValue("text"),
        phone: fc.oneof(fc.constantFrom("+49 30 1234567", "030 1234567", "not a phone"), hostileText),
        company_id: fc.option(fieldValue("id")),
      }),
      fc.constantFrom(null, "oops", [1, 2]),
    ),
    createdAt: time,
    updatedAt: time,
    archived: fc.boolean(),
  })),
  page: (records, index, last) =>
    `{"results":[${records.join(",")}]${last ? "" : `,"paging":{"next":{"after":"a${index}"}}`}}`,
  brokenPage: fc.constantFrom(
    "{}",
    '{"results":"none"}',
    '{"results":[],"paging":{"next":{"after":7}}}',
    '{"results":[],"paging":{"next":{"after":null}}}',
  ),
  items: (body) => (JSON.parse(body) as { results: unknown[] }).results,
  read: (url) =>
    new CrmClient({ baseUrl: url, clientId: "fuzz", clientSecret: "fuzz-secret-9d", ...quickClient }).objects(
      "contacts",
      { pageSize: 10 },
    ),
  staged: {
    map: (item) => item,
    model: Contact as unknown as z.ZodType<unknown>,
    sourceKey: (c) => contactKey(c as Contact),
    rawKey: (o) => (o as { id?: unknown })?.id,
  },
};

const user = fc.record({
  id: fc.nat(20),
  role: fc.constantFrom("end-user", "agent"),
  name: fieldValue("text"),
  email,
  external_id: fc.option(fieldValue("id")),
});

/** A page's side-loaded users: one of each id a ticket may name (0 to 20), their fields hostile at times. */
const usersOf = (page: number) => fc.sample(user, { seed: page, numRuns: 21 }).map((u, id) => ({ ...u, id }));

const chat: ApiKind = {
  name: "chat-api",
  apiName: "chat API",
  record: recordText(fc.record({
    id: fc.oneof(fc.nat(), fc.constantFrom(...hugeNumbers)),
    external_id: fieldValue("id"),
    created_at: time,
    updated_at: time,
    requester_id: fc.option(fc.nat(20)),
    assignee_id: fc.option(fc.nat(20)),
    via: fc.oneof(fc.record({ channel: fieldValue(["web", "email", "chat"]) }), fc.constant(null)),
    custom_fields: fc.oneof(
      fc.array(fc.record({ id: fc.constantFrom(360_001, 360_002, 1), value: fc.option(fieldValue("id")) })),
      fc.constantFrom("oops", [null, 7], { id: 360_001 }),
    ),
  })),
  page: (records, index, last) =>
    `{"tickets":[${records.join(",")}],"users":${JSON.stringify(usersOf(index))},` +
    `"after_cursor":"c${index}","end_of_stream":${last}}`,
  brokenPage: fc.constantFrom(
    "{}",
    '{"tickets":{}}',
    '{"tickets":[],"end_of_stream":false}',
    '{"tickets":[],"after_cursor":17,"end_of_stream":true}',
    '{"tickets":[null],"users":[null,{"id":1}],"after_cursor":"x","end_of_stream":true,"oops":',
  ),
  items(body) {
    const page = JSON.parse(body) as { tickets: Record<string, unknown>[]; users: { id: number }[] };
    const users = new Map(page.users.map((u) => [u.id, u]));
    return page.tickets.map((ticket) => {
      if (ticket === null || typeof ticket !== "object" || Array.isArray(ticket)) return ticket;
      const requester = users.get(ticket.requester_id as number);
      const assignee = users.get(ticket.assignee_id as number);
      return { ...ticket, ...(requester ? { requester } : {}), ...(assignee ? { assignee } : {}) };
    });
  },
  read: (url) => new ChatClient({ baseUrl: url, token: "fuzz-token-3c", ...quickClient }).tickets({ startTime: 0 }),
  staged: {
    map: sessionOfTicket,
    model: ChatSession as unknown as z.ZodType<unknown>,
    sourceKey: (s) => chatSessionKey(s as ChatSession),
    rawKey: (line) => (line as { id?: unknown })?.id,
    updatedAt: (s) => (s as ChatSession).updatedAt,
  },
};

const payments: ApiKind = {
  name: "payments-api",
  apiName: "payments API",
  record: recordText(fc.record({
    id: fc.oneof(fieldValue("id"), fc.constant(null)),
    object: fc.constant("charge"),
    amount: fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.double(), fc.constantFrom(...hugeNumbers)),
    currency: fieldValue("currency"),
    created: fc.oneof(fc.integer({ min: 1_600_000_000, max: 1_800_000_000 }), fc.constantFrom(1e13, -1e13, 8.64e12)),
    paid: fc.boolean(),
    metadata: fc.oneof(
      fc.record({ order_id: fieldValue("id"), payment_id: fieldValue("id") }),
      fc.constantFrom(null, "x", []),
    ),
    payment_method_details: fc.oneof(
      fc.record({ type: fieldValue(["card", "paypal", "bank_transfer", "invoice"]) }),
      fc.constant(null),
    ),
  })),
  // a page with more after it ends with an object whose id the next page starts after
  page: (records, index, last) =>
    `{"object":"list","data":[${[...records, ...(last ? [] : [`{"id":"ch_${index}"}`])].join(",")}],` +
    `"has_more":${!last}}`,
  brokenPage: fc.constantFrom(
    "{}",
    '{"data":"none"}',
    '{"data":[null],"has_more":true}',
    '{"data":[{"id":5}],"has_more":true}',
  ),
  items: (body) => (JSON.parse(body) as { data: unknown[] }).data,
  read: (url) => new PaymentsClient({ baseUrl: url, secretKey: "sk_fuzz_4a1", ...quickClient }).list("charges"),
  staged: {
    map: paymentOfCharge,
    model: Payment as unknown as z.ZodType<unknown>,
    sourceKey: (p) => paymentKey(p as Payment),
    rawKey: (row) => (row as { payment_id?: unknown })?.payment_id,
  },
};

/** A product as the GraphQL API's connection gives it (no bundled asset reads one: a model of the test's own). */
const Product = z.object({ id: z.string().min(1), title: z.string().trim().min(1), price: z.coerce.number().finite() });

const graphql: ApiKind = {
  name: "graphql",
  apiName: "GraphQL API",
  record: recordText(fc.record({
    id: fieldValue("id"),
    title: fieldValue("text"),
    price: fc.oneof(fieldValue("amount"), fc.double(), fc.constant(null)),
  })),
  // an edge's node, a null edge, or an edge without a node; a field error on one in five (a bad row of it)
  page: (records, index, last) => {
    const edges = records.map((r, i) => (i % 7 === 6 ? "null" : i % 11 === 10 ? "{}" : `{"node":${r}}`));
    const errors = records.flatMap((_, i) =>
      i % 5 === 2 ? [`{"message":"price cannot be shown","path":["products","edges",${i},"node","price"]}`] : []
    );
    return `{"data":{"products":{"edges":[${
      edges.join(",")
    }],"pageInfo":{"hasNextPage":${!last},"endCursor":"e${index}"}}}` +
      `${errors.length > 0 ? `,"errors":[${errors.join(",")}]` : ""}}`;
  },
  brokenPage: fc.constantFrom(
    '{"data":null}',
    '{"data":{"products":{"edges":"none"}}}',
    '{"data":{"products":{"edges":[]}},"errors":[null]}',
    '{"data":{"products":{"edges":[]}},"errors":"oops"}',
    '{"data":{"products":{"edges":[]}},"errors":[{"message":"Field price doesn\'t exist","path":["products"]}]}',
    '{"data":{"products":{"edges":[],"pageInfo":{"hasNextPage":true}}}}',
  ),
  items(body) {
    const page = JSON.parse(body) as {
      data: { products: { edges: ({ node?: unknown } | null)[] } };
      errors?: { path: unknown[] }[];
    };
    const errors = new Set((page.errors ?? []).map((e) => e.path[2]));
    return page.data.products.edges.map((edge, i) => (errors.has(i) ? { badRow: true } : edge?.node));
  },
  read: (url) =>
    new GraphqlClient({ endpoint: `${url}/graphql`, accessToken: "shpat_fuzz_2b", ...quickClient }).connection(
      "query ($first: Int!, $after: String) { products(first: $first, after: $after) { edges { node { id title price } } pageInfo { hasNextPage endCursor } } }",
      { path: "products", keyOf: (node) => (node as { id?: string } | undefined)?.id },
    ),
  staged: {
    map: (item) => item,
    model: Product as z.ZodType<unknown>,
    sourceKey: (p) => (p as z.infer<typeof Product>).id,
    rawKey: (raw) => (raw as { id?: unknown })?.id,
  },
};

export const apiKinds: ApiKind[] = [crm, chat, payments, graphql];
