import fc from "fast-check";
import { Binary, BSONRegExp, type Db, Double, Int32, Long, Timestamp } from "mongodb";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Deal, dealKey, dealStages } from "../../assets/crm/models.ts";
import { Customer, customerKey } from "../../assets/ec/models.ts";
import { WebSession } from "../../assets/ec/web-sessions.ts";
import { isBadRow, SourceError } from "../../connectors/bad-rows.ts";
import { createMysqlPool, type mysql, readMysql } from "../../connectors/mariadb/index.ts";
import { connectMongo, plainDocument, readCollection } from "../../connectors/mongodb/index.ts";
import { neo4jResource } from "../../connectors/neo4j/index.ts";
import { readTable } from "../../connectors/postgres/index.ts";
import { stagingResource } from "../../connectors/staging/index.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { canonicalJson } from "../../engine/canonical-json.ts";
import { defineDefinitions } from "../../engine/definitions.ts";
import { defineResource } from "../../engine/resource.ts";
import { settings } from "../../resources/settings.ts";
import {
  checkBadRow,
  fieldValue,
  fuzzSeed,
  hostileText,
  megabyteText,
  nestedJson,
  readAll,
  sameValue,
  stagedOutcome,
} from "../fuzz-inputs.ts";
import { checkLoad, fuzzAssets, type FuzzLoad } from "../fuzz-loads.ts";
import { recordFigure } from "../reliability.ts";
import { dropLabels } from "../stream-project.ts";
import { connect, materialize } from "../support.ts";

/**
 * The database sources with odd values in their rows and documents: a table of the shop's Postgres, one of the
 * CRM's MariaDB, a collection of FerretDB, each filled with rows drawn with the fuzz seed (hostile text, NUL and
 * lone surrogates where the database takes them, 1 MiB texts, bigints past 2^53, numerics of 400 digits, NaN and
 * infinities, dates out of range and zero dates, deep JSON, binary, columns named __proto__ and constructor).
 * Each reader gives every row once, in order, with each value as the database holds it (or, for a document with
 * no JSON form, a bad row naming it); the bundled model takes or refuses each. Then one materialisation of each
 * into staging, dead letters and Neo4j equals the in-process outcome.
 */
const id = randomBytes(3).toString("hex");
let env: Awaited<ReturnType<typeof connect>>;
const loads: FuzzLoad[] = [];
const load = (name: string, keyProperty: string): FuzzLoad => {
  const made = { key: `fuzz_${id}/${name}`, table: `fz_${name}_${id}`, label: `Fuzz${name}_${id}`, keyProperty };
  loads.push(made);
  return made;
};

beforeAll(async () => {
  env = await connect();
});
afterAll(async () => {
  for (const { table } of loads) await env?.pool.query(`drop table if exists staging.${table}`);
  if (env) {
    await dropLabels(env.neo4j, loads.map((l) => l.label));
    await env.close();
  }
});

/** Drawn with the suite's seed: the same rows every run. */
const sample = <T>(arbitrary: fc.Arbitrary<T>, count: number) =>
  fc.sample(arbitrary, { seed: fuzzSeed, numRuns: count });

/**
 * Text a database column holds as written: UTF-8 (lone surrogates become U+FFFD), NUL where `nul` allows it;
 * 1 MiB of it once in 300.
 */
const text = (nul: boolean) =>
  fc.oneof(
    { arbitrary: fieldValue("text"), weight: 200 },
    { arbitrary: hostileText, weight: 100 },
    { arbitrary: fc.constant(megabyteText), weight: 1 },
  ).map((t) => (nul ? t : t.replaceAll("\u0000", "")).toWellFormed());

/** The fields of a row read that differ from those expected, each with both values (shortened). */
function differences(read: unknown, expected: Record<string, unknown>) {
  const row = read as Record<string, unknown>;
  const names = new Set([...Object.keys(row), ...Object.keys(expected)]);
  const shown = (v: unknown) =>
    String(typeof v === "object" && !(v instanceof Date) ? canonicalJson(v) : v).slice(0, 200);
  return [...names].filter((name) => !sameValue(row[name], expected[name])).map((name) =>
    `${name}: read ${shown(row[name])}, expected ${shown(expected[name])}`
  );
}

/**
 * A document's strings as FerretDB stores them: UTF-8 (lone surrogates become U+FFFD), and without NUL, which it
 * refuses (its Postgres cannot hold one).
 */
function asStored(value: unknown): unknown {
  if (typeof value === "string") return value.replaceAll("\u0000", "").toWellFormed();
  if (Array.isArray(value)) return value.map(asStored);
  const prototype = value === null || typeof value !== "object" ? undefined : Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as object)) {
    Object.defineProperty(out, key, { value: asStored(item), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Runs one materialisation of a staged asset and node asset over `extract`, and checks it against `want`. */
async function loadAndCheck(
  made: FuzzLoad,
  spec: Parameters<typeof stagedOutcome>[1],
  extract: () => AsyncIterable<unknown>,
  want: ReturnType<typeof stagedOutcome>,
  resources: Record<string, ReturnType<typeof defineResource>> = {},
) {
  const assets = fuzzAssets(made, spec, extract, { resources: Object.keys(resources) });
  const graph = buildAssetGraph(
    defineDefinitions({ assets, resources: { staging: stagingResource(), neo4j: neo4jResource(), ...resources } }),
  );
  const { run } = await materialize(env.pool, graph);
  expect(run.status, run.error ?? "").toBe("succeeded");
  return checkLoad(env, run.id, made, want);
}

// ---------------------------------------------------------------------------------------------------------------

const customers = {
  model: Customer,
  sourceKey: customerKey,
  rawKey: (r: unknown) => (r as { customer_id?: unknown }).customer_id,
};

/** Odd numerics and what Postgres gives back for each (its canonical text). */
const numerics = fc.oneof(
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map((n) => [String(n), String(n)]),
  fc.tuple(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.stringMatching(/^[0-9]{1,30}$/)).map(
    ([i, f]) => [`${i}.${f}`, `${i < 0n || String(i).startsWith("-") ? "" : ""}${i}.${f}`],
  ),
  fc.constantFrom(["NaN", "NaN"], ["1e400", `1${"0".repeat(400)}`], ["-0.000001", "-0.000001"]),
);

const pgRow = fc.record({
  customer_id: fieldValue("id"),
  email: fc.oneof({ arbitrary: fieldValue("email"), weight: 4 }, hostileText),
  first_name: text(false),
  last_name: text(false),
  phone: fc.oneof(fc.constantFrom("+49 30 1234567", "030 1234567", "not a phone", ""), hostileText),
  country: fc.oneof(fc.constantFrom("DE", "gb", "Deutschland", "Atlantis"), hostileText),
  created_at: fc.oneof(
    {
      arbitrary: fc.date({ min: new Date("1900-01-01"), max: new Date("2100-01-01"), noInvalidDate: true }),
      weight: 6,
    },
    { arbitrary: fc.constantFrom("infinity", "-infinity", "294276-12-31 00:00:00+00"), weight: 1 },
  ),
  updated_at: fieldValue("timestamp").map((t) => t.replaceAll("\u0000", "").toWellFormed()),
  big: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  amount: numerics,
  score: fc.double(),
  profile: fc.oneof(
    fc.jsonValue({ maxDepth: 3 }).map((v) => canonicalJson(v)),
    fc.constant(`{"deep":${nestedJson(2_000, true)}}`),
  ),
  raw: fc.uint8Array({ maxLength: 64 }),
  tags: fc.array(fc.option(text(false), { nil: null }), { maxLength: 4 }),
  proto: text(false),
});

type PgRow = typeof pgRow extends fc.Arbitrary<infer R> ? R : never;

/** A row as readTable should give it: each value as pg reads its type (bigint exact or as text). */
function pgExpected(row: PgRow, seq: number): Record<string, unknown> {
  const created = row.created_at instanceof Date
    ? row.created_at
    : row.created_at === "infinity"
    ? Infinity
    : row.created_at === "-infinity"
    ? -Infinity
    : new Date(Number.NaN);
  const record: Record<string, unknown> = {
    seq,
    customer_id: row.customer_id.replaceAll("\u0000", "").toWellFormed(),
    email: row.email.replaceAll("\u0000", "").toWellFormed(),
    first_name: row.first_name,
    last_name: row.last_name,
    phone: row.phone.replaceAll("\u0000", "").toWellFormed(),
    country: row.country.replaceAll("\u0000", "").toWellFormed(),
    created_at: created,
    updated_at: row.updated_at,
    big: Number.isSafeInteger(Number(row.big)) ? Number(row.big) : String(row.big),
    amount: row.amount[1],
    score: Object.is(row.score, -0) ? 0 : row.score,
    profile: JSON.parse(row.profile),
    raw: Buffer.from(row.raw),
    tags: row.tags,
    constructor: row.customer_id.replaceAll("\u0000", "").toWellFormed(),
  };
  Object.defineProperty(record, "__proto__", {
    value: row.proto,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return record;
}

describe("readTable over odd rows, fuzzed", () => {
  it("reads every row once, in order, as Postgres holds it; the model takes or refuses each; a run stages the same", async () => {
    const table = `public.fuzz_customers_${id}`;
    const rows = sample(pgRow, 1_200);
    await env.shop.query(`create table ${table} (seq int primary key, customer_id text, email text, first_name text,
      last_name text, phone text, country text, created_at timestamptz, updated_at text, big bigint, amount numeric,
      score float8, profile jsonb, raw bytea, tags text[], "__proto__" text, "constructor" text)`);
    try {
      for (let start = 0; start < rows.length; start += 100) {
        const chunk = rows.slice(start, start + 100);
        const values = chunk.flatMap((r, i) => [
          start + i,
          r.customer_id.replaceAll("\u0000", ""),
          r.email.replaceAll("\u0000", ""),
          r.first_name,
          r.last_name,
          r.phone.replaceAll("\u0000", ""),
          r.country.replaceAll("\u0000", ""),
          r.created_at,
          r.updated_at,
          String(r.big),
          r.amount[0],
          r.score,
          r.profile,
          Buffer.from(r.raw),
          r.tags,
          r.proto,
          r.customer_id.replaceAll("\u0000", ""),
        ]);
        const places = chunk.map((_, i) =>
          `(${Array.from({ length: 17 }, (_, j) => `$${i * 17 + j + 1}`).join(", ")})`
        );
        await env.shop.query(`insert into ${table} values ${places.join(", ")}`, values);
      }
      const query = `select * from ${table} order by seq`;
      const { items, error } = await readAll(readTable(env.shop, query, [], { batchSize: 97 }));
      expect(error).toBeUndefined();
      expect(items.length).toBe(rows.length);
      items.forEach((item, i) => expect(differences(item, pgExpected(rows[i]!, i)), `row ${i}`).toEqual([]));
      const want = stagedOutcome(items, customers);
      const lost = await loadAndCheck(load("pg", "customerId"), customers, () => readTable(env.shop, query), want);
      recordFigure("fuzz: postgres cases", rows.length, "rows", ">= 1000", "readTable in-process, then one load");
      recordFigure("fuzz: postgres records lost or duplicated", lost, "records", "<= 0");
    } finally {
      await env.shop.query(`drop table if exists ${table}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------

const deals = { model: Deal, sourceKey: dealKey, rawKey: (r: unknown) => (r as { deal_id?: unknown }).deal_id };

/** A DATETIME as text, zero dates and the ends of the range among them (what MariaDB gives back, as written). */
const datetime = fc.oneof(
  {
    arbitrary: fc.date({ min: new Date("1000-01-01"), max: new Date("9999-12-31"), noInvalidDate: true }).map((d) =>
      d.toISOString().slice(0, 19).replace("T", " ")
    ),
    weight: 6,
  },
  { arbitrary: fc.constantFrom("0000-00-00 00:00:00", "9999-12-31 23:59:59", "1000-01-01 00:00:00"), weight: 1 },
);

const mariadbRow = fc.record({
  deal_id: fieldValue("id"),
  deal_name: text(true),
  dealstage: fc.oneof({ arbitrary: fc.constantFrom(...dealStages), weight: 4 }, hostileText),
  // DECIMAL(65,30): an integer part of up to 35 digits and a fraction of up to 30, given back with all 30
  amount: fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 35n - 1n }), fc.stringMatching(/^[0-9]{0,30}$/)),
  currency: fc.oneof(fieldValue("currency"), hostileText).map((t) => t.slice(0, 60).toWellFormed()),
  close_date: datetime,
  created_at: datetime,
  updated_at: fieldValue("timestamp").map((t) => t.toWellFormed()),
  big: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  ratio: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
  notes: text(true),
  payload: fc.uint8Array({ maxLength: 64 }),
});

type MariadbRow = typeof mariadbRow extends fc.Arbitrary<infer R> ? R : never;

function mariadbExpected(row: MariadbRow, seq: number): Record<string, unknown> {
  const [int, fraction] = row.amount;
  return {
    seq,
    deal_id: row.deal_id.toWellFormed(),
    deal_name: row.deal_name,
    dealstage: row.dealstage.toWellFormed(),
    amount: `${int}.${fraction.padEnd(30, "0")}`,
    currency: row.currency,
    close_date: row.close_date,
    created_at: row.created_at,
    updated_at: row.updated_at,
    big: Number.isSafeInteger(Number(row.big)) ? Number(row.big) : String(row.big),
    ratio: row.ratio,
    notes: row.notes,
    payload: Buffer.from(row.payload),
    constructor: row.deal_id.toWellFormed(),
  };
}

describe("readMysql over odd rows, fuzzed", () => {
  const database = `ingest_fuzz_${id}`;
  const url = new URL(settings().mariadb.url);
  url.pathname = `/${database}`;
  let pool: mysql.Pool;
  beforeAll(async () => {
    await env.crmDatabase.query(`create database ${database} character set utf8mb4 collate utf8mb4_bin`);
    pool = createMysqlPool(url.toString());
  });
  afterAll(async () => {
    await pool?.end();
    await env?.crmDatabase.query(`drop database if exists ${database}`);
  });

  it("reads every row once, in order, as MariaDB holds it; the model takes or refuses each; a run stages the same", async () => {
    const rows = sample(mariadbRow, 1_200);
    await pool.query(`create table deals (seq int primary key, deal_id longtext, deal_name longtext,
      dealstage text, amount decimal(65,30), currency varchar(64), close_date datetime, created_at datetime,
      updated_at text, big bigint unsigned, ratio double, notes longtext, payload blob, \`constructor\` longtext)`);
    const connection = await pool.getConnection();
    try {
      // zero dates, as old CRMs wrote them: the session lets them in
      await connection.query("set session sql_mode = ''");
      for (let start = 0; start < rows.length; start += 100) {
        const values = rows.slice(start, start + 100).map((r, i) => [
          start + i,
          r.deal_id,
          r.deal_name,
          r.dealstage,
          `${r.amount[0]}.${r.amount[1] || "0"}`,
          r.currency,
          r.close_date,
          r.created_at,
          r.updated_at,
          String(r.big),
          r.ratio,
          r.notes,
          Buffer.from(r.payload),
          r.deal_id,
        ]);
        await connection.query("insert into deals values ?", [values]);
      }
    } finally {
      connection.release();
    }
    const query = "select * from deals order by seq";
    const { items, error } = await readAll(readMysql(pool, query, [], { batchSize: 97 }));
    expect(error).toBeUndefined();
    expect(items.length).toBe(rows.length);
    items.forEach((item, i) => expect(differences(item, mariadbExpected(rows[i]!, i)), `row ${i}`).toEqual([]));
    // a column named __proto__ is refused by the driver: the read fails whole, clearly, naming the query
    const refused = await readAll(readMysql(pool, "select 1 as `__proto__`"));
    expect(refused.error).toBeInstanceOf(SourceError);
    expect(refused.error!.message).toMatch(/the MySQL\/MariaDB server at .*: The field name \(__proto__\)/);
    const want = stagedOutcome(items, deals);
    const lost = await loadAndCheck(
      load("mariadb", "dealId"),
      deals,
      () => readMysql(pool, query),
      want,
    );
    recordFigure("fuzz: mariadb cases", rows.length, "rows", ">= 1000", "readMysql in-process, then one load");
    recordFigure("fuzz: mariadb records lost or duplicated", lost, "records", "<= 0");
  });
});

// ---------------------------------------------------------------------------------------------------------------

const sessions = {
  model: WebSession,
  sourceKey: (s: { sessionId: string }) => s.sessionId,
  rawKey: (raw: unknown) => (raw as { sessionId?: unknown })?.sessionId,
};

/** BSON values FerretDB stores: 64-bit integers at their ends, regular expressions (no JSON form), binary, timestamps. */
const bsonValue = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => Long.fromBigInt(n)),
  fc.integer().map((n) => new Int32(n)),
  // FerretDB stores neither NaN nor infinities (it refuses them), nor -0 (it reads back 0)
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => new Double(Object.is(d, -0) ? 0 : d)),
  fc.constantFrom(/a+b/i, new BSONRegExp("^x", "m")),
  fc.uint8Array({ maxLength: 16 }).map((b) => new Binary(Buffer.from(b))),
  fc.record({ t: fc.nat(), i: fc.nat() }).map((ts) => new Timestamp(ts)),
  fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }),
  text(false),
  fc.constant(null),
);

const page = fc.record({
  path: fc.oneof(fc.webPath(), hostileText),
  at: fc.oneof(fc.date({ noInvalidDate: true }), fieldValue("timestamp")),
  productId: fc.option(fieldValue("id")),
});

const sessionDocument = fc.record({
  sessionId: fieldValue("id").map((t) => t.replaceAll("\u0000", "").toWellFormed()),
  customerId: fc.option(fieldValue("id").map((t) => t.replaceAll("\u0000", "").toWellFormed())),
  startedAt: fc.oneof(
    {
      arbitrary: fc.date({ min: new Date("2020-01-01"), max: new Date("2030-01-01"), noInvalidDate: true }),
      weight: 5,
    },
    { arbitrary: fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }), weight: 1 },
    { arbitrary: text(false), weight: 1 },
  ),
  device: fc.oneof(fc.record({ type: text(false), os: text(false), browser: text(false) }), text(false)),
  pages: fc.oneof({ arbitrary: fc.array(page, { maxLength: 5 }), weight: 5 }, fc.integer(), fc.constant([null])),
  extra: bsonValue,
  deep: fc.oneof(fc.constant(null), fc.constant(JSON.parse(nestedJson(80, true)) as object)),
  proto: fc.option(text(false)),
});

describe("readCollection over odd documents, fuzzed", () => {
  let db: Db;
  beforeAll(async () => {
    const url = new URL(settings().mongo.url);
    url.pathname = `/ingest_fuzz_${id}`;
    db = await connectMongo(url.toString());
  });
  afterAll(async () => {
    await db?.dropDatabase();
    await db?.client.close();
  });

  it("reads every document once, in order, as plain values or a bad row naming its field; a run stages the same", async () => {
    const documents = sample(sessionDocument, 1_200).map(({ proto, ...d }, seq) => {
      const document = asStored({ _id: seq, ...d }) as Record<string, unknown>;
      if (proto !== null) {
        Object.defineProperty(document, "__proto__", {
          value: proto,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return document;
    });
    for (let start = 0; start < documents.length; start += 200) {
      await db.collection("sessions").insertMany(documents.slice(start, start + 200));
    }
    const { items, error } = await readAll(readCollection(db, "sessions", { sort: { _id: 1 }, batchSize: 97 }));
    expect(error).toBeUndefined();
    expect(items.length).toBe(documents.length);
    for (const [i, item] of items.entries()) {
      const converted = plainDocument(documents[i]!);
      if ("unconvertible" in converted) {
        expect(isBadRow(item), `document ${i}: a bad row`).toBe(true);
        if (isBadRow(item)) {
          checkBadRow(item, `MongoDB collection ${db.databaseName}.sessions at ${db.client.options.hosts.join(",")}`);
          // a BSONRegExp written comes back a RegExp: the path is what is certain, and that it has no JSON value
          expect(item.__error).toContain(`: ${converted.unconvertible.path} is `);
          expect(item.__error).toMatch(/, which has no JSON value$/);
        }
      } else expect(differences(item, converted.document), `document ${i}`).toEqual([]);
    }
    const want = stagedOutcome(items, sessions);
    const catalog = defineResource({ kind: "mongodb", setup: () => db, teardown: () => {} });
    const lost = await loadAndCheck(
      load("mongodb", "sessionId"),
      sessions,
      () => readCollection(db, "sessions", { sort: { _id: 1 } }),
      want,
      { catalog },
    );
    recordFigure("fuzz: mongodb cases", documents.length, "documents", ">= 1000", "readCollection, then one load");
    recordFigure("fuzz: mongodb records lost or duplicated", lost, "records", "<= 0");
  });
});
