import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "csv-parse/sync";
import ExcelJS from "exceljs";
import { parquetMetadata } from "hyparquet";
import { BSON, type Db } from "mongodb";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connectMongo } from "../../connectors/mongodb/index.ts";
import { createPool, type pg } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import {
  badReasonOf,
  entities,
  type Entity,
  generate,
  type GenerationReport,
  indexOfId,
  unparseableDates,
} from "../../samples/generate/index.ts";

const scale = 2_000;
const seed = 42;
const shopTables = [
  "categories",
  "customers",
  "products",
  "orders",
  "order_items",
  "reviews",
  "payments",
  "shipments",
] as const;
const dirs: string[] = [];
let shop: pg.Pool;
/** A database of this test's own in the stack's FerretDB, for the catalogue. */
let catalog: Db;
let outDir: string;
let report: GenerationReport;
let firstTables: Record<string, string>;
let firstCatalogue: string;

const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "ingest-generate-"));
  dirs.push(dir);
  return dir;
};
const lines = (path: string) => readFileSync(path, "utf8").split("\n").filter((line) => line !== "");
const jsonl = <T = Record<string, unknown>>(path: string) => lines(path).map((line) => JSON.parse(line) as T);
const normalise = (email: string) => email.trim().toLowerCase();
const isEmail = (email: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email);
const good = (entity: Entity, id: string) => badReasonOf(entity, indexOfId(id)) === undefined;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** The analytics export's monthly files, oldest first. */
const parquetFiles = () => Object.keys(report.files).filter((path) => path.endsWith(".parquet")).sort();

const sha256 = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

/** Row count and a digest of every row of each shop table, in a fixed order. */
async function tableDigests(pool: pg.Pool): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const table of shopTables) {
    const { rows } = await pool.query<{ n: number; digest: string }>(
      `select count(*)::int as n, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as digest from shop.${table} t`,
    );
    digests[table] = `${rows[0]?.n}:${rows[0]?.digest}`;
  }
  return digests;
}

/** A digest of every catalogue document, in `_id` order, as canonical Extended JSON (types included). */
async function catalogueDigest(db: Db): Promise<string> {
  const hash = createHash("sha256");
  for (const name of ["products", "sessions"]) {
    for await (const doc of db.collection(name).find().sort({ _id: 1 })) {
      hash.update(BSON.EJSON.stringify(doc, { relaxed: false }));
    }
  }
  return hash.digest("hex");
}

interface Conversation {
  id: string;
  requester?: { email: string; name: string };
  order_ref?: string;
  messages: { id: string; body?: string }[];
}

beforeAll(async () => {
  shop = createPool(settings().shopDatabaseUrl);
  outDir = newDir();
  const url = new URL(settings().mongo.url);
  url.pathname = "/ingest_generate_test";
  catalog = await connectMongo(url.toString());
  report = await generate({ scale, seed, outDir, shopPool: shop, catalog });
  firstTables = await tableDigests(shop);
  firstCatalogue = await catalogueDigest(catalog);
});

afterAll(async () => {
  await shop?.end();
  await catalog?.dropDatabase();
  await catalog?.client.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

it("writes exactly the rows, lines and files the report lists", async () => {
  expect(JSON.parse(readFileSync(join(outDir, "report.json"), "utf8"))).toEqual(report);
  expect(filesUnder(outDir)).toEqual([...Object.keys(report.files), "report.json"].sort());

  for (const table of shopTables) {
    const { rows } = await shop.query<{ n: number }>(`select count(*)::int as n from shop.${table}`);
    expect(rows[0]?.n, table).toBe(report.tables[`shop.${table}`]);
    expect(report.entities[table].generated, table).toBe(rows[0]?.n);
  }
  for (const [name, documents] of Object.entries(report.collections!)) {
    expect(await catalog.collection(name.split(".")[1]!).countDocuments(), name).toBe(documents);
  }
  for (const [path, count] of Object.entries(report.files)) {
    const full = join(outDir, path);
    if (path.endsWith(".jsonl")) expect(lines(full).length, path).toBe(count);
    else if (path.endsWith(".csv")) expect(parse(readFileSync(full), { columns: true }).length, path).toBe(count);
    else if (path.endsWith(".xml.gz")) {
      expect(gunzipSync(readFileSync(full)).toString("utf8").match(/<event /g)?.length, path).toBe(count);
    } else if (path.endsWith(".json.gz")) {
      const document = JSON.parse(gunzipSync(readFileSync(full)).toString("utf8")) as { campaigns: unknown[] };
      expect(document.campaigns.length, path).toBe(count);
    } else if (path.endsWith(".parquet")) {
      const bytes = new Uint8Array(readFileSync(full)).buffer;
      // the last month's export was cut short: its footer, and so every row, is gone
      if (path === parquetFiles().at(-1)) expect(() => parquetMetadata(bytes), path).toThrow(/footer/);
      else expect(Number(parquetMetadata(bytes).num_rows), path).toBe(count);
    } else {
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.readFile(full);
      const sheet = workbook.getWorksheet("Reps");
      expect(sheet?.getRow(1).values).toEqual([undefined, "Owner ID", "Email", "Name", "Team", "Region", "Start date"]);
      expect(sheet?.getRow(2).getCell(6).value).toBeInstanceOf(Date);
      expect((sheet?.rowCount ?? 0) - 1, path).toBe(count);
    }
  }

  const { files, entities: e, scale: reportedScale } = report;
  expect(reportedScale).toBe(scale);
  expect(e.companies.generated).toBe(files["crm/api/companies.jsonl"]);
  expect(e.contacts.generated).toBe(files["crm/api/contacts.jsonl"]);
  expect(e.owners.generated).toBe(files["crm/api/owners.jsonl"]);
  expect(e.deals.generated).toBe(files["crm/api/deals.jsonl"]);
  expect(e.interactions.generated).toBe(files["crm/exports/interactions.csv"]);
  expect(e.agents.generated).toBe(files["chat/export/agents.jsonl"]);
  expect(e.conversations.generated).toBe(files["chat/export/conversations.jsonl"]);
  // the chat API's tickets are the export's lines; the payment provider's charges are the payments
  expect(files["chat/api/tickets.jsonl"]).toBe(e.conversations.generated);
  expect(files["payments/api/charges.jsonl"]).toBe(e.payments.generated);
  const exported = jsonl<Conversation>(join(outDir, "chat/export/conversations.jsonl")).reduce(
    (sum, c) => sum + c.messages.length,
    0,
  );
  const webhooks = Object.entries(files).filter(([path]) => path.startsWith("chat/webhooks/")).reduce(
    (sum, [, n]) => sum + n,
    0,
  );
  expect(webhooks).toBeGreaterThan(0);
  expect(e.chat_messages.generated).toBe(exported + webhooks);
  const sumOf = (paths: string[]) => paths.reduce((sum, path) => sum + files[path]!, 0);
  expect(e.tracking_events.generated).toBe(sumOf(Object.keys(files).filter((p) => p.endsWith(".xml.gz"))));
  // the rows of the complete files, and the truncated file as one unreadable record
  expect(e.order_analytics.generated).toBe(sumOf(parquetFiles().slice(0, -1)) + 1);
  expect(e.order_analytics.bad.truncated_file).toBe(1);
  expect(sumOf(parquetFiles())).toBe(scale);
  expect(e.campaigns.generated).toBe(files["analytics/campaigns.json.gz"]);
  // the counts of samples/SOURCES.md at N = 2,000
  expect([
    e.customers.generated,
    e.products.generated,
    e.reviews.generated,
    e.payments.generated,
    e.shipments.generated,
  ]).toEqual([400, 200, 500, 2000, 1800]);
  expect([
    e.companies.generated - e.companies.duplicates,
    e.contacts.generated - e.contacts.duplicates,
    e.owners.generated,
    e.deals.generated - e.deals.duplicates,
  ]).toEqual([20, 100, 10, 40]);
  expect(e.order_items.generated / 2000).toBeCloseTo(3, 0);
});

it("keeps expectedLoaded = generated - bad - duplicates, with the bad records where the rules put them", async () => {
  expect(Object.keys(report.entities)).toEqual([...entities]);
  for (const entity of entities) {
    const r = report.entities[entity]!;
    const bad = Object.values(r.bad).reduce((sum, n) => sum + (n ?? 0), 0);
    expect(r.expectedLoaded, entity).toBe(r.generated - bad - r.duplicates);
    expect(r.expectedLoaded, entity).toBeGreaterThan(0);
    if (r.generated >= 1000) expect(bad / r.generated, entity).toBeGreaterThan(0.005);
    if (r.generated >= 1000) expect(bad / r.generated, entity).toBeLessThan(0.015);
  }
  const fileDuplicates = ["companies", "contacts", "deals", "interactions", "conversations", "chat_messages"] as const;
  for (const entity of fileDuplicates) expect(report.entities[entity].duplicates, entity).toBeGreaterThan(0);

  const reviews = await shop.query<{ review_id: string; rating: number }>(
    "select review_id, rating from shop.reviews order by review_id",
  );
  for (const { review_id, rating } of reviews.rows) {
    expect(rating < 1 || rating > 5, review_id).toBe(
      badReasonOf("reviews", indexOfId(review_id)) === "rating_out_of_range",
    );
  }
  const items = await shop.query<{ quantity: number; unit_price: string | null }>(
    "select quantity, unit_price from shop.order_items order by order_id, line_no",
  );
  items.rows.forEach(({ quantity, unit_price }, index) => {
    expect(quantity < 0, `item ${index}`).toBe(badReasonOf("order_items", index) === "negative_quantity");
    expect(unit_price === null, `item ${index}`).toBe(badReasonOf("order_items", index) === "missing_required_field");
  });
  const customers = await shop.query<{ customer_id: string; email: string | null; created_at: string }>(
    "select customer_id, email, created_at from shop.customers",
  );
  for (const { customer_id, email, created_at } of customers.rows) {
    const reason = badReasonOf("customers", indexOfId(customer_id));
    expect(email === null, customer_id).toBe(reason === "missing_required_field");
    expect(email !== null && !isEmail(email), customer_id).toBe(reason === "invalid_email");
    expect((unparseableDates as readonly string[]).includes(created_at), customer_id).toBe(
      reason === "unparseable_date",
    );
    expect(Number.isNaN(Date.parse(created_at)) && !/^\d\d\/\d\d\/\d{4}$/.test(created_at), customer_id).toBe(
      reason === "unparseable_date",
    );
  }

  // a duplicate repeats a source key with an older update time
  const deals = jsonl<{ id: string; updatedAt: string }>(join(outDir, "crm/api/deals.jsonl"));
  const seen = new Map<string, string>();
  let repeated = 0;
  for (const deal of deals) {
    const first = seen.get(deal.id);
    if (first === undefined) seen.set(deal.id, deal.updatedAt);
    else {
      repeated++;
      expect(Date.parse(deal.updatedAt)).toBeLessThan(Date.parse(first));
    }
  }
  expect(repeated).toBe(report.entities.deals.duplicates);
});

it("writes the same bytes and rows for the same scale and seed", async () => {
  const again = newDir();
  const second = await generate({ scale, seed, outDir: again, shopPool: shop, catalog });
  expect(second).toEqual(report);
  const files = filesUnder(outDir);
  expect(filesUnder(again)).toEqual(files);
  for (const file of files) expect(sha256(join(again, file)), file).toBe(sha256(join(outDir, file)));
  expect(await tableDigests(shop)).toEqual(firstTables);
  expect(await catalogueDigest(catalog)).toBe(firstCatalogue);
});

it("reads like a real shop, CRM and help desk", async () => {
  const oneStar = await shop.query<{ body: string }>("select body from shop.reviews where rating = 1");
  expect(oneStar.rows.length).toBeGreaterThan(20);
  const negative = /broke|broken|stopped|refund|return|disappoint|poor|waste|never|avoid|terrible/i;
  for (const { body } of oneStar.rows) expect(body).toMatch(negative);
  const fiveStar = await shop.query<{ body: string }>("select body from shop.reviews where rating = 5");
  for (const { body } of fiveStar.rows) expect(body).not.toMatch(/waste of money|never replied|avoid|refund/i);

  const products = await shop.query<{ name: string; description: string }>(
    "select name, description from shop.products where name is not null",
  );
  for (const { description } of products.rows) expect(description).toMatch(/^<p>.*<strong>.+<\/strong>.*<\/p>/);
  expect(new Set(products.rows.map((p) => p.description)).size).toBe(products.rows.length);

  const tree = await shop.query<{ category_id: string; parent_id: string | null }>(
    "select category_id, parent_id from shop.categories",
  );
  const categoryIds = new Set(tree.rows.map((c) => c.category_id));
  expect(tree.rows.filter((c) => c.parent_id === null)).toHaveLength(8);
  for (const { parent_id } of tree.rows) if (parent_id !== null) expect(categoryIds.has(parent_id)).toBe(true);

  // a customer's conversation is about one of their own orders
  const conversations = jsonl<Conversation>(join(outDir, "chat/export/conversations.jsonl"));
  const aboutOrders = conversations.filter((c) =>
    c.order_ref !== undefined && c.requester && good("conversations", c.id)
  );
  expect(aboutOrders.length).toBeGreaterThan(50);
  const owners = await shop.query<{ order_id: string; email: string }>(
    "select o.order_id, c.email from shop.orders o join shop.customers c on c.customer_id = o.customer_id where o.order_id = any($1)",
    [aboutOrders.map((c) => c.order_ref)],
  );
  const emailOfOrder = new Map(owners.rows.map((row) => [row.order_id, normalise(row.email)]));
  for (const c of aboutOrders) {
    expect(emailOfOrder.get(c.order_ref ?? ""), c.id).toBe(normalise(c.requester?.email ?? ""));
  }
  expect(conversations.find((c) => c.messages.some((m) => m.body?.includes(c.order_ref ?? "-")))).toBeDefined();

  const notes = parse(readFileSync(join(outDir, "crm/exports/interactions.csv")), { columns: true }) as {
    notes: string;
  }[];
  expect(notes.some((n) => n.notes.includes(",") && n.notes.includes('"') && n.notes.includes("\n"))).toBe(true);
});

it("has the people across systems the report counts", async () => {
  const customers = await shop.query<{ customer_id: string; email: string }>(
    "select customer_id, email from shop.customers",
  );
  const customerEmails = new Set(
    customers.rows.filter((c) => good("customers", c.customer_id)).map((c) => normalise(c.email)),
  );
  expect(customerEmails.size).toBe(report.entities.customers.expectedLoaded);

  const contacts = new Map<string, string>();
  for (const c of jsonl<{ id: string; properties: { email: string | null } }>(join(outDir, "crm/api/contacts.jsonl"))) {
    if (good("contacts", c.id) && !contacts.has(c.id)) contacts.set(c.id, c.properties.email ?? "");
  }
  const contactsWhoAreCustomers = [...contacts.values()].filter((email) => customerEmails.has(normalise(email)));
  expect(contactsWhoAreCustomers.length).toBe(report.people.customersAlsoContacts);
  expect(contactsWhoAreCustomers.length / contacts.size).toBeCloseTo(0.3, 1);
  // the same person, typed differently
  expect(contactsWhoAreCustomers.filter((email) => email !== normalise(email)).length).toBeGreaterThan(
    contactsWhoAreCustomers.length / 2,
  );

  const requesters = new Map<string, string>();
  for (const c of jsonl<Conversation>(join(outDir, "chat/export/conversations.jsonl"))) {
    if (good("conversations", c.id) && !requesters.has(c.id)) requesters.set(c.id, c.requester?.email ?? "");
  }
  const requestersWhoAreCustomers = [...requesters.values()].filter((email) => customerEmails.has(normalise(email)));
  expect(requestersWhoAreCustomers.length).toBe(report.people.customersAlsoChatRequesters);
  expect(requestersWhoAreCustomers.length / requesters.size).toBeCloseTo(0.4, 1);

  const people = new Set([
    ...customerEmails,
    ...[...contacts.values()].map(normalise),
    ...[...requesters.values()].map(normalise),
  ]);
  expect(people.size).toBe(report.people.distinctPeople);
});
