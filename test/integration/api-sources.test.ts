// The API clients against the sample APIs (samples/apis/), each a local HTTP server behaving like the API it
// imitates, serving what the generator writes (chat, payments) or the shop database (GraphQL): paging
// complete and exact through 429s, 5xx and throttling, refused credentials, a server gone mid-read,
// idempotency keys, and GraphQL errors inside 200s.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BadRow, isBadRow } from "../../connectors/bad-rows.ts";
import { ChatClient, type ChatTicket } from "../../connectors/chat-api/index.ts";
import { GraphqlClient, GraphqlError } from "../../connectors/graphql/index.ts";
import { ApiError } from "../../connectors/http/index.ts";
import { PaymentsClient, type PaymentsObject } from "../../connectors/payments-api/index.ts";
import { createLogger } from "../../resources/logger.ts";
import { createPool } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { writeChat } from "../../samples/generate/chat/write-chat.ts";
import { writePayments } from "../../samples/generate/payments/write-payments.ts";
import { createWorld } from "../../samples/generate/world.ts";
import { type SampleApisOptions, startSampleApis } from "../../samples/apis/server.ts";
import { startScratchSampleApis } from "../../samples/apis/scratch.ts";
import { badReasonOf, generate, type GenerationReport, indexOfId } from "../../samples/generate/index.ts";
import definitions from "../../definitions.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { prepareDatabase } from "../../engine/worker.ts";
import { metadataDb, type pg } from "../../resources/postgres.ts";
import { materialize } from "../support.ts";

const dir = mkdtempSync(join(tmpdir(), "ingest-api-sources-"));
const world = createWorld(800, 5);
const secrets = {
  chat: "chat-t0ken-do-not-leak-41c2",
  shop: "shpat_do-not-leak-93be",
  payments: "sk_test_do-not-leak-5d17",
};
const quiet = createLogger({ write: () => {} });
/** Fast retries, so that a test waits for the server's limits rather than for backoff. */
const patient = { backoffMs: 10, maxBackoffMs: 100, maxAttempts: 12, logger: quiet };

beforeAll(async () => {
  await writeChat(world, dir);
  await writePayments(world, dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const linesOf = (path: string) =>
  readFileSync(path, "utf8").split("\n").filter((line) => line.trim() !== "").map((line) =>
    JSON.parse(line) as Record<string, unknown>
  );

/** What a call rejects with, or undefined when it resolves. */
const failureOf = (promise: Promise<unknown>) => promise.then(() => undefined, (error: Error) => error);

/** A logger that keeps its lines, to check that no secret reaches a log. */
function recordingLogger() {
  const lines: string[] = [];
  const logger = createLogger({ write: (line: string) => void lines.push(line) });
  logger.level = "debug";
  return { logger, lines };
}

async function withApis<T>(
  options: Omit<SampleApisOptions, "port" | "host">,
  use: (apis: Awaited<ReturnType<typeof startSampleApis>>) => Promise<T>,
) {
  const apis = await startSampleApis(options);
  try {
    return await use(apis);
  } finally {
    await apis.close();
  }
}

describe("ChatClient against the sample Zendesk-shaped API", () => {
  const chatDir = join(dir, "chat", "api");
  const chat = (options: Partial<NonNullable<SampleApisOptions["chat"]>> = {}) => ({
    chat: { dataDir: chatDir, token: secrets.chat, ...options },
  });

  it("exports every ticket once, in export order with its users side-loaded, through 429s and 503s, and resumes from the cursor it returns", async () => {
    await withApis(chat({ requestsPerSecond: 4, failureRate: 0.2, seed: 3 }), async (apis) => {
      const { logger, lines } = recordingLogger();
      const client = new ChatClient({
        baseUrl: apis.chat!.url,
        token: secrets.chat,
        requestsPerSecond: 40,
        burst: 4,
        ...patient,
        logger,
      });
      const run = client.tickets({ startTime: 0 }, { perPage: 10 });
      const tickets = await collect(run);

      const written = linesOf(join(chatDir, "tickets.jsonl"));
      const inExportOrder = written.map((t, line) => ({ t, line }))
        .sort((a, b) => (a.t.generated_timestamp as number) - (b.t.generated_timestamp as number) || a.line - b.line)
        .map(({ t }) => [t.id, t.updated_at]);
      expect(tickets.map((t) => [t.id, t.updated_at])).toEqual(inExportOrder);
      // snapshots: a ticket changed while the export pages comes again, later
      expect(new Set(tickets.map((t) => t.id)).size).toBe(world.sizes.conversations);
      expect(tickets.length).toBeGreaterThan(world.sizes.conversations);

      const users = new Map(linesOf(join(chatDir, "users.jsonl")).map((u) => [u.id, u]));
      for (const ticket of tickets) {
        expect(ticket.requester).toEqual(ticket.requester_id === null ? undefined : users.get(ticket.requester_id));
        expect(ticket.assignee).toEqual(users.get(ticket.assignee_id));
      }

      const server = apis.chat!.stats;
      expect(server.tooManyRequests).toBeGreaterThan(0);
      expect(server.retryAfterIgnored).toBe(0);
      expect(server.serviceUnavailable).toBeGreaterThan(0);
      expect(client.stats.retries).toBe(server.tooManyRequests + server.serviceUnavailable);
      expect(lines.join("\n")).not.toContain(secrets.chat);

      // Nothing new: the saved cursor gives nothing. New tickets: exactly those.
      expect(run.position?.endOfStream).toBe(true);
      const again = client.tickets({ cursor: run.position!.cursor });
      expect(await collect(again)).toEqual([]);
      const latest = Math.max(...written.map((t) => t.generated_timestamp as number));
      const added = [1, 2].map((n) => ({ ...written[0], id: 90_000 + n, generated_timestamp: latest + n }));
      appendFileSync(join(chatDir, "tickets.jsonl"), added.map((t) => `${JSON.stringify(t)}\n`).join(""));
      const resumed = client.tickets({ cursor: again.position!.cursor });
      expect((await collect(resumed)).map((t: ChatTicket) => t.id)).toEqual([90_001, 90_002]);
    });
  });

  it("reads a ticket's comments page by page, each once", async () => {
    await withApis(chat({ requestsPerSecond: 100 }), async (apis) => {
      const client = new ChatClient({ baseUrl: apis.chat!.url, token: secrets.chat, ...patient });
      const written = linesOf(join(chatDir, "comments.jsonl"));
      for (const ticket of [1, 2, world.sizes.conversations]) {
        const expected = written.filter((c) => c.ticket_id === ticket).map(({ ticket_id: _, ...c }) => c);
        expect(expected.length).toBeGreaterThan(1);
        expect(await collect(client.comments(ticket, { pageSize: 1 }))).toEqual(expected);
      }
      const unknown = await failureOf(collect(client.comments(999_999)));
      expect(unknown).toBeInstanceOf(ApiError);
      expect((unknown as ApiError).status).toBe(404);
    });
  });

  it("refuses a wrong token with an error naming the API and the URL, never the token", async () => {
    await withApis(chat(), async (apis) => {
      const { logger, lines } = recordingLogger();
      const wrong = "wrong-chat-token-never-print-me";
      const client = new ChatClient({ baseUrl: apis.chat!.url, token: wrong, ...patient, logger });
      const error = await failureOf(collect(client.tickets({ startTime: 0 }, { perPage: 5 })));
      expect(error?.message).toBe(
        `chat API: GET ${
          apis.chat!.url
        }/api/v2/incremental/tickets/cursor.json?per_page=5&include=users&start_time=0: 401 Unauthorized (Couldn't authenticate you) (check the API token)`,
      );
      expect(JSON.stringify(error) + error?.message + lines.join("\n")).not.toContain(wrong);
      expect(apis.chat!.stats.unauthorized).toBe(1);
    });
  });

  it("retries a server gone mid-read a bounded number of times, then fails naming it", async () => {
    const apis = await startSampleApis(chat({ requestsPerSecond: 100 }));
    const client = new ChatClient({ baseUrl: apis.chat!.url, token: secrets.chat, ...patient, maxAttempts: 3 });
    const read: unknown[] = [];
    const error = await failureOf((async () => {
      for await (const ticket of client.tickets({ startTime: 0 }, { perPage: 10 })) {
        read.push(ticket);
        if (read.length === 10) await apis.close();
      }
    })());
    expect(read).toHaveLength(10);
    expect(error).toBeInstanceOf(ApiError);
    expect(error!.message).toMatch(
      new RegExp(
        `^chat API: GET ${
          apis.chat!.url
        }/api/v2/incremental/tickets/cursor\\.json\\?\\S+ failed after 3 attempts: fetch failed`,
      ),
    );
    expect(error!.message).not.toContain(secrets.chat);
    expect(client.stats.retries).toBe(2);
  });
});

describe("PaymentsClient against the sample Stripe-shaped API", () => {
  const paymentsDir = join(dir, "payments", "api");
  const payments = (options: Partial<NonNullable<SampleApisOptions["payments"]>> = {}) => ({
    payments: { dataDir: paymentsDir, secretKey: secrets.payments, ...options },
  });
  const charges = () => linesOf(join(paymentsDir, "charges.jsonl"));
  const created = (c: Record<string, unknown>) => (typeof c.created === "number" ? c.created : 0);
  const newestFirst = (list: Record<string, unknown>[]) =>
    [...list].sort((a, b) => created(b) - created(a) || (a.id! < b.id! ? 1 : -1)).map((c) => c.id);

  it("lists every charge once, newest first, through 429s and 500s; created[gte] gives exactly the newer ones", async () => {
    await withApis(payments({ requestsPerSecond: 5, failureRate: 0.2, seed: 9 }), async (apis) => {
      // Stripe's 429s say no Retry-After: the backoff alone must outlast the limit.
      const client = new PaymentsClient({
        baseUrl: apis.payments!.url,
        secretKey: secrets.payments,
        requestsPerSecond: 50,
        burst: 5,
        ...patient,
        maxBackoffMs: 2_000,
      });
      const all = await collect(client.list("charges", { limit: 40 }));
      expect(all.map((c) => c.id)).toEqual(newestFirst(charges()));
      expect(all).toHaveLength(world.sizes.orders);
      const server = apis.payments!.stats;
      expect(server.tooManyRequests).toBeGreaterThan(0);
      expect(server.serverErrors).toBeGreaterThan(0);
      expect(client.stats.retries).toBe(server.tooManyRequests + server.serverErrors);

      const times = charges().map(created).filter((t) => t > 0).sort((a, b) => a - b);
      const since = times[Math.floor(times.length * 0.9)]!;
      const recent = await collect(client.list("charges", { limit: 7, created: { gte: since } }));
      expect(recent.map((c) => c.id)).toEqual(newestFirst(charges().filter((c) => created(c) >= since)));
    });
  });

  it("creates a refund once per idempotency key: a retry after a lost answer, or the same call again, gets the same refund; other parameters are refused", async () => {
    await withApis(payments({ requestsPerSecond: 100, dropAfterCreateRate: 1 }), async (apis) => {
      const client = new PaymentsClient({ baseUrl: apis.payments!.url, secretKey: secrets.payments, ...patient });
      const charge = charges().find((c) => c.refunded === false && c.paid === true)!;
      // The connection drops after the refund is made: the client retries with the same key.
      const refund = await client.create("refunds", { charge: charge.id as string, amount: 100 }, {
        idempotencyKey: "refund-1",
      });
      expect(refund).toMatchObject({ object: "refund", charge: charge.id, amount: 100 });
      expect(apis.payments!.stats).toMatchObject({ created: 1, droppedAfterCreate: 1, replayed: 1 });
      expect(client.stats.retries).toBe(1);

      const again = await client.create("refunds", { charge: charge.id as string, amount: 100 }, {
        idempotencyKey: "refund-1",
      });
      expect(again.id).toBe(refund.id);
      expect(apis.payments!.stats).toMatchObject({ created: 1, replayed: 2 });

      const conflict = await failureOf(
        client.create("refunds", { charge: charge.id as string, amount: 200 }, { idempotencyKey: "refund-1" }),
      );
      expect(conflict).toBeInstanceOf(ApiError);
      expect(conflict).toMatchObject({ status: 400, code: "idempotency_error", source: "payments API" });
      expect(conflict!.message).toContain("Keys for idempotent requests can only be used with the same parameters");
      expect(apis.payments!.stats).toMatchObject({ created: 1, idempotencyConflicts: 1 });

      // The refund is listed, newest first, with the charge's others.
      const listed = await collect(client.list<PaymentsObject>("refunds", { params: { charge: charge.id as string } }));
      expect(listed.map((r) => r.id)).toEqual([refund.id]);
    });
  });

  it("refuses a wrong key with Stripe's error, without the key", async () => {
    await withApis(payments(), async (apis) => {
      const wrong = "sk_test_wrong-key-never-print-me-0000";
      const client = new PaymentsClient({ baseUrl: apis.payments!.url, secretKey: wrong, ...patient });
      const error = await failureOf(collect(client.list("charges", { limit: 3 })));
      expect(error?.message).toBe(
        `payments API: GET ${
          apis.payments!.url
        }/v1/charges?limit=3: 401 Unauthorized (Invalid API Key provided: sk_test_****0000) (check the secret key)`,
      );
      expect(JSON.stringify(error) + error?.message).not.toContain(wrong);
    });
  });
});

describe("GraphqlClient against the sample Shopify-shaped API", () => {
  const schema = "api_sources_test";
  const pool = createPool(settings().shopDatabaseUrl);
  const products = 130;
  /** Product 17's price is not a number: a GraphQL error inside the 200, for that product only. */
  const badPrice = "P-0017";
  beforeAll(async () => {
    await pool.query(`drop schema if exists ${schema} cascade; create schema ${schema};
      create table ${schema}.products (product_id text primary key, sku text, name text, description text,
        category_id text, price text, currency char(3), updated_at timestamptz not null);
      create table ${schema}.orders (order_id text primary key, customer_id text, status text, ordered_at text,
        currency char(3), total numeric(12, 2), updated_at timestamptz not null);
      create table ${schema}.order_items (order_id text, line_no int, product_id text, quantity int,
        unit_price numeric(12, 2), discount numeric(4, 3), primary key (order_id, line_no));
      insert into ${schema}.products
        select 'P-' || lpad(i::text, 4, '0'), 'SKU-' || i, 'Product ' || i, '<p>About ' || i || '</p>', 'CAT-001',
               case when i = 17 then 'N/A' else ' ' || (i * 1.5)::text || ' ' end, 'EUR',
               timestamptz '2026-01-01' + i * interval '1 hour'
        from generate_series(1, ${products}) i;
      insert into ${schema}.orders
        select 'O-' || lpad(i::text, 4, '0'), 'C-1', 'paid', '2026-01-02', 'EUR', i, timestamptz '2026-01-03'
        from generate_series(1, 12) i;
      insert into ${schema}.order_items
        select 'O-' || lpad(i::text, 4, '0'), l, 'P-0001', l, 10, 0 from generate_series(1, 12) i, generate_series(1, 3) l;`);
  });
  afterAll(async () => {
    await pool.query(`drop schema if exists ${schema} cascade`);
    await pool.end();
  });
  const shop = (options: Partial<NonNullable<SampleApisOptions["shop"]>> = {}) => ({
    shop: { pool, schema, accessToken: secrets.shop, ...options },
  });
  const productsQuery = `query ($first: Int!, $after: String) {
    products(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { node { legacyResourceId title price updatedAt } }
    }
  }`;

  it("pages through every product once, waiting out the cost bucket and retrying internal errors; a field error is a bad row of that product", async () => {
    // 52 points a page (2 + 50 nodes), a bucket of 120 restored at 100 a second: the client waits for it.
    await withApis(shop({ maximumAvailable: 120, restoreRate: 100, failureRate: 0.25, seed: 4 }), async (apis) => {
      const client = new GraphqlClient({ endpoint: apis.shop!.url, accessToken: secrets.shop, ...patient });
      const nodes = await collect(
        client.connection<{ legacyResourceId: string; price: string }>(productsQuery, {
          path: "products",
          pageSize: 50,
          keyOf: (p) => p.legacyResourceId,
        }),
      );
      const ids = Array.from({ length: products }, (_, i) => `P-${String(i + 1).padStart(4, "0")}`);
      expect(nodes.map((n) => (isBadRow(n) ? `bad ${n.__sourceKey}` : n.legacyResourceId))).toEqual(
        ids.map((id) => (id === badPrice ? `bad ${id}` : id)),
      );
      const good = nodes.filter((n) => !isBadRow(n)) as { legacyResourceId: string; price: string }[];
      expect(good.find((p) => p.legacyResourceId === "P-0002")?.price).toBe("3.0");
      const bad = nodes.find(isBadRow) as BadRow;
      expect(bad.toDeadLetter("shop products")).toMatchObject({
        source: "shop products",
        sourceKey: badPrice,
        reason: "unparseable",
        issues: [{
          path: "price",
          message: expect.stringContaining(
            'GraphQL error: Decimal cannot represent a non-numeric value: "N/A" (at products.edges.16.node.price)',
          ),
        }],
      });

      const server = apis.shop!.stats;
      expect(server.internalErrors).toBeGreaterThan(0);
      expect(server.fieldErrors).toBe(1);
      expect(client.stats.throttled).toBe(server.throttled);
      expect(client.stats.throttleWaitMs).toBeGreaterThan(0);
      expect(client.stats.recordErrors).toBe(1);
      // Every retry was of a throttled query or an internal error.
      expect(client.stats.retries).toBe(server.throttled + server.internalErrors);
    });
  });

  it("pages a nested connection and follows a search query", async () => {
    await withApis(shop(), async (apis) => {
      const client = new GraphqlClient({ endpoint: apis.shop!.url, accessToken: secrets.shop, ...patient });
      const orders = await collect(
        client.connection<{ name: string; lineItems: { edges: { node: { quantity: number } }[] } }>(
          `query ($first: Int!, $after: String) {
          orders(first: $first, after: $after) {
            pageInfo { hasNextPage endCursor }
            edges { node { name lineItems(first: 10) { edges { node { quantity } } } } }
          }
        }`,
          { path: "orders", pageSize: 5 },
        ),
      );
      expect(orders.map((o) => !isBadRow(o) && [o.name, o.lineItems.edges.map((e) => e.node.quantity)])).toEqual(
        Array.from({ length: 12 }, (_, i) => [`#O-${String(i + 1).padStart(4, "0")}`, [1, 2, 3]]),
      );
      const recent = await collect(client.connection<{ legacyResourceId: string }>(
        `query ($first: Int!, $after: String, $query: String) {
          products(first: $first, after: $after, query: $query) { pageInfo { hasNextPage endCursor } edges { node { legacyResourceId } } }
        }`,
        { path: "products", pageSize: 4, variables: { query: "updated_at:>'2026-01-06T00:00:00Z'" } },
      ));
      // product i was updated i hours into 2026: after 120 hours, products 121 to 130
      expect(recent.map((p) => !isBadRow(p) && p.legacyResourceId)).toEqual(
        Array.from({ length: 10 }, (_, i) => `P-0${121 + i}`),
      );
    });
  });

  it("throws GraphQL errors that come inside a 200: a query that does not validate, a cost over the maximum", async () => {
    await withApis(shop({ maximumAvailable: 1000 }), async (apis) => {
      const client = new GraphqlClient({ endpoint: apis.shop!.url, accessToken: secrets.shop, ...patient });
      const invalid = await failureOf(client.request("{ products(first: 1) { edges { node { colour } } } }"));
      expect(invalid).toBeInstanceOf(GraphqlError);
      expect(invalid).toMatchObject({ status: 200, source: "GraphQL API" });
      expect(invalid!.message).toBe(
        `GraphQL API: POST ${
          apis.shop!.url
        }: GraphQL errors in the response: Cannot query field "colour" on type "Product".`,
      );
      const costly = await failureOf(
        client.request("{ orders(first: 250) { edges { node { lineItems(first: 250) { edges { node { id } } } } } } }"),
      );
      expect(costly).toMatchObject({ status: 200, code: "MAX_COST_EXCEEDED" });
      expect((costly as GraphqlError).errors[0]!.message).toMatch(/exceeds the single query max cost limit \(1000\)/);
      expect(apis.shop!.stats.queries).toBe(0);
    });
  });

  it("refuses a wrong access token with Shopify's 401, without the token", async () => {
    await withApis(shop(), async (apis) => {
      const wrong = "shpat_wrong-never-print-me";
      const client = new GraphqlClient({ endpoint: apis.shop!.url, accessToken: wrong, name: "shop API", ...patient });
      const error = await failureOf(client.request(productsQuery, { first: 1 }));
      expect(error?.message).toBe(
        `shop API: POST ${
          apis.shop!.url
        }: 401 Unauthorized ([API] Invalid API key or access token (unrecognized login or wrong password)) (check the access token)`,
      );
      expect(JSON.stringify(error) + error?.message).not.toContain(wrong);
    });
  });

  it("retries a server gone mid-read a bounded number of times, then fails naming it", async () => {
    const apis = await startSampleApis(shop());
    const client = new GraphqlClient({
      endpoint: apis.shop!.url,
      accessToken: secrets.shop,
      ...patient,
      maxAttempts: 2,
    });
    const read: unknown[] = [];
    const error = await failureOf((async () => {
      for await (const node of client.connection(productsQuery, { path: "products", pageSize: 20 })) {
        read.push(node);
        if (read.length === 20) await apis.close();
      }
    })());
    expect(read).toHaveLength(20);
    expect(error!.message).toMatch(
      new RegExp(`^GraphQL API: POST ${apis.shop!.url} failed after 2 attempts: fetch failed`),
    );
  });
});

describe("the bundled project's API sources, against sample APIs over generated data", () => {
  // A database and a shop of their own, the generator's files in a folder of their own: nothing shared changes.
  const admin = createPool(settings().databaseUrl, 1);
  const databases = ["apis_test_ingest", "apis_test_shop"];
  const urlOf = (name: string) => Object.assign(new URL(settings().databaseUrl), { pathname: `/${name}` }).href;
  const outDir = join(dir, "generated");
  const saved = { ...process.env };
  let report: GenerationReport;
  let pool: pg.Pool;
  let apis: Awaited<ReturnType<typeof startScratchSampleApis>>;
  const graph = buildAssetGraph(definitions);
  const keys = ["ec/products", "ec/payments", "chat/sessions"];

  beforeAll(async () => {
    for (const name of databases) {
      await admin.query(`drop database if exists ${name} with (force)`);
      await admin.query(`create database ${name}`);
    }
    const shop = createPool(urlOf("apis_test_shop"));
    report = await generate({ scale: 600, seed: 11, outDir, shopPool: shop }).finally(() => shop.end());
    apis = await startScratchSampleApis(outDir, urlOf("apis_test_shop"));
    // The resources read their settings when first set up: in this process, after this.
    Object.assign(process.env, apis.env, {
      DATABASE_URL: urlOf("apis_test_ingest"),
      SHOP_DATABASE_URL: urlOf("apis_test_shop"),
      INGEST_SOURCES_DIR: outDir,
    });
    pool = createPool(urlOf("apis_test_ingest"));
    await prepareDatabase(pool);
  });
  afterAll(async () => {
    process.env = saved;
    await pool?.end();
    await apis?.close();
    for (const name of databases) await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  });

  it("accounts for every product, payment and conversation the generator made, the bad ones dead-lettered for their defect", async () => {
    const { run } = await materialize(pool, graph, keys);
    expect(run.status, run.error ?? "").toBe("succeeded");
    const db = metadataDb(pool);
    for (
      const [key, entity, paths] of [
        ["ec/products", "products", {
          non_numeric_price: "price",
          unknown_currency: "currency",
          missing_required_field: "name",
        }],
        ["ec/payments", "payments", {
          unknown_currency: "currency",
          unparseable_date: "paidAt",
          missing_required_field: "method",
        }],
        ["chat/sessions", "conversations", undefined],
      ] as const
    ) {
      const expected = report.entities[entity]!;
      const { counts } = await db.selectFrom("ingest.materializations").select("counts").where("run_id", "=", run.id)
        .where("asset_key", "=", key).executeTakeFirstOrThrow();
      const bad = Object.values(expected.bad).reduce((a, b) => a + (b ?? 0), 0);
      expect([key, counts]).toMatchObject([key, {
        extracted: expected.generated,
        loaded: expected.expectedLoaded,
        deadLettered: bad,
        deduplicated: expected.duplicates,
      }]);
      const letters = await listDeadLetters(db, { runId: run.id, assetKey: key });
      expect(letters).toHaveLength(bad);
      if (!paths) continue;
      // each where the defect is, under its source key: the GraphQL errors in 200s too
      expect(letters.map((l) => [l.sourceKey, l.issues[0]!.path])).toEqual(
        letters.map((l) => [l.sourceKey, paths[badReasonOf(entity, indexOfId(l.sourceKey!))! as keyof typeof paths]]),
      );
    }
    const products = await listDeadLetters(db, { runId: run.id, assetKey: "ec/products", reason: "unparseable" });
    expect(products).toHaveLength(report.entities.products.bad.non_numeric_price!);
    expect(products[0]!.issues[0]!.message).toMatch(/GraphQL error: Decimal cannot represent a non-numeric value/);
  });

  it("reads the chat API again from where it stopped: only what changed since, less the lag", async () => {
    const { run } = await materialize(pool, graph, ["chat/sessions"]);
    expect(run.status, run.error ?? "").toBe("succeeded");
    const m = await metadataDb(pool).selectFrom("ingest.materializations").select(["counts", "metadata"])
      .where("run_id", "=", run.id).where("asset_key", "=", "chat/sessions").executeTakeFirstOrThrow();
    expect(m.metadata).toMatchObject({ read: "incremental" });
    expect(m.counts).toMatchObject({ written: 0, removed: 0 });
    expect(m.counts.extracted).toBeLessThan(report.entities.conversations.generated);
  });
});
