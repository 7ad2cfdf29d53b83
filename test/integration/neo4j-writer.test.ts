import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectNeo4j,
  type Driver,
  ensureIndex,
  ensureRelationshipIndex,
  ensureUniqueKey,
  mergeNodes,
  mergeRelationships,
  missingEnds,
  runInBatches,
} from "../../connectors/neo4j/index.ts";

// Labels of this file only: other tests wipe the whole graph, this one removes just what it wrote.
const Node = "WriterTestNode";
const Order = "WriterTestOrder";
const Product = "WriterTestProduct";
const Bare = "WriterTestBare";
const CONTAINS = "WRITER_TEST_CONTAINS";
const labels = [Node, Order, Product, Bare];

let driver: Driver;

async function cleanUp() {
  for (const label of labels) {
    await runInBatches(driver, `MATCH (n:${label}) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS`);
  }
  for (const [label, key] of [[Node, "id"], [Order, "orderId"], [Product, "productId"]] as const) {
    await driver.executeQuery(`DROP CONSTRAINT ${label.toLowerCase()}_${key}_unique IF EXISTS`);
  }
}

async function value<T>(query: string, params: Record<string, unknown> = {}): Promise<T> {
  const { records } = await driver.executeQuery(query, params);
  const v = records[0]!.get(0);
  return (typeof v?.toNumber === "function" ? v.toNumber() : v) as T;
}

const nodeRows = (n: number, version: number) =>
  Array.from({ length: n }, (_, i) => ({
    key: `n${i}`,
    props: { name: `node ${i} v${version}`, age: 20 + (i % 50), score: i / 7, active: i % 2 === 0 },
  }));

beforeAll(async () => {
  driver = connectNeo4j();
  await cleanUp();
  await ensureUniqueKey(driver, Node, "id");
  await ensureUniqueKey(driver, Order, "orderId");
  await ensureUniqueKey(driver, Product, "productId");
});

afterAll(async () => {
  await cleanUp();
  await driver.close();
});

describe("mergeNodes", () => {
  it("merges rows idempotently, the second write replacing properties", async () => {
    const first = await mergeNodes(driver, Node, "id", nodeRows(12_000, 1), {
      batchSize: 1_000,
      concurrency: 3,
      integers: ["age"],
    });
    expect(first.written).toBe(12_000);
    const second = await mergeNodes(driver, Node, "id", nodeRows(12_000, 2), { batchSize: 5_000, integers: ["age"] });
    expect(second.written).toBe(12_000);
    expect(await value<number>(`MATCH (n:${Node}) RETURN count(n)`)).toBe(12_000);
    expect(await value<string>(`MATCH (n:${Node} {id: 'n7'}) RETURN n.name`)).toBe("node 7 v2");
  });

  it("replaces properties: rows may differ in keys, a key left out later is removed, a keyword is a key", async () => {
    await mergeNodes(driver, Node, "id", [
      { key: "shape-a", props: { id: "shape-a", end: 1, kept: "a" } },
      { key: "shape-b", props: { other: true } },
    ]);
    await mergeNodes(driver, Node, "id", [{ key: "shape-a", props: { kept: "again" } }]);
    const { records } = await driver.executeQuery(
      `MATCH (n:${Node}) WHERE n.id STARTS WITH 'shape-' RETURN n.id AS id, properties(n) AS props ORDER BY id`,
    );
    expect(records.map((r) => r.get("props"))).toEqual([{ id: "shape-a", kept: "again" }, {
      id: "shape-b",
      other: true,
    }]);
  });

  it("sends declared integers as INTEGER and other numbers as FLOAT", async () => {
    await mergeNodes(driver, Node, "id", [{ key: "typed", props: { age: 41, score: 3, big: 2n ** 40n } }], {
      integers: ["age"],
    });
    const { records } = await driver.executeQuery(
      `MATCH (n:${Node} {id: 'typed'}) RETURN valueType(n.age) AS age, valueType(n.score) AS score, valueType(n.big) AS big, n.age = toInteger(n.age) AS same`,
    );
    expect(records[0]!.toObject()).toEqual({
      age: "INTEGER NOT NULL",
      score: "FLOAT NOT NULL",
      big: "INTEGER NOT NULL",
      same: true,
    });
  });

  it("rejects a non-integer for a declared integer key, naming the key, before writing anything", async () => {
    const rows = [
      { key: "ok", props: { age: 1 } },
      { key: "bad", props: { age: 1.5 } },
    ];
    await expect(mergeNodes(driver, Node, "id", rows, { integers: ["age"] })).rejects.toThrow(
      /'age'.*row 1 \(key "bad"\) has 1\.5/,
    );
    await expect(mergeNodes(driver, Node, "id", [{ key: "s", props: { age: "12" } }], { integers: ["age"] })).rejects
      .toThrow(/'age'/);
    expect(await value<number>(`MATCH (n:${Node}) WHERE n.id IN ['ok', 'bad', 's'] RETURN count(n)`)).toBe(0);
  });

  it("refuses a label whose key has no uniqueness constraint", async () => {
    await expect(mergeNodes(driver, Bare, "id", [{ key: "x", props: {} }])).rejects.toThrow(
      /no uniqueness constraint on :WriterTestBare\(id\)/,
    );
  });
});

describe("mergeRelationships", () => {
  const orders = 3_000;
  const products = 5;
  const items = (version: number) =>
    Array.from({ length: orders * 3 }, (_, i) => ({
      start: `o${Math.floor(i / 3)}`,
      end: `p${i % products}`,
      props: { quantity: 1 + (i % 4), unitPrice: 2.5 + version, lineNo: i % 3 },
    }));

  beforeAll(async () => {
    await mergeNodes(driver, Order, "orderId", Array.from({ length: orders }, (_, i) => ({ key: `o${i}`, props: {} })));
    await mergeNodes(
      driver,
      Product,
      "productId",
      Array.from({ length: products }, (_, i) => ({ key: `p${i}`, props: {} })),
    );
  });

  it("names the rows whose end nodes do not exist, and which end is missing", async () => {
    const rows = [
      { start: "o1", end: "p1", props: { quantity: 1 } },
      { start: "o1", end: "missing", props: { quantity: 1 } },
      { start: "missing", end: "p2", props: { quantity: 1 } },
    ];
    const ends = [{ label: Order, key: "orderId" }, { label: Product, key: "productId" }] as const;
    const result = await mergeRelationships(driver, CONTAINS, ...ends, rows);
    expect(result).toEqual({ written: 1, missingEnds: 2, unwritten: [rows[1], rows[2]] });
    expect(await missingEnds(driver, ...ends, result.unwritten)).toEqual([
      { start: false, end: true },
      { start: true, end: false },
    ]);
  });

  it("writes concurrent batches over a few dense end nodes without failing, integers as INTEGER", async () => {
    await driver.executeQuery(`MATCH (:${Order})-[r:${CONTAINS}]->() DELETE r`);
    const ends = [{ label: Order, key: "orderId" }, { label: Product, key: "productId" }] as const;
    // Partitioned batches in one call, and two calls at once whose batches do share nodes (deadlocks are retried).
    const [a, b] = await Promise.all([
      mergeRelationships(driver, CONTAINS, ...ends, items(1), {
        batchSize: 500,
        concurrency: 3,
        integers: ["quantity", "lineNo"],
      }),
      mergeRelationships(driver, CONTAINS, ...ends, items(2).reverse(), {
        batchSize: 500,
        concurrency: 2,
        integers: ["quantity", "lineNo"],
      }),
    ]);
    expect(a).toEqual({ written: orders * 3, missingEnds: 0, unwritten: [] });
    expect(b).toEqual({ written: orders * 3, missingEnds: 0, unwritten: [] });
    // o0..o2999 each link to 3 distinct products: MERGE keeps one relationship per pair.
    expect(await value<number>(`MATCH (:${Order})-[r:${CONTAINS}]->(:${Product}) RETURN count(r)`)).toBe(orders * 3);
    const { records } = await driver.executeQuery(
      `MATCH (:${Order})-[r:${CONTAINS}]->(:${Product}) RETURN collect(DISTINCT valueType(r.quantity)) AS q, collect(DISTINCT valueType(r.unitPrice)) AS p, collect(DISTINCT valueType(r.lineNo)) AS l`,
    );
    expect(records[0]!.toObject()).toEqual({ q: ["INTEGER NOT NULL"], p: ["FLOAT NOT NULL"], l: ["INTEGER NOT NULL"] });
  });

  it("rejects a non-integer relationship property declared integer, naming the key", async () => {
    const rows = [{ start: "o1", end: "p1", props: { quantity: 2.5 } }];
    await expect(
      mergeRelationships(
        driver,
        CONTAINS,
        { label: Order, key: "orderId" },
        { label: Product, key: "productId" },
        rows,
        { integers: ["quantity"] },
      ),
    ).rejects.toThrow(/\[:WRITER_TEST_CONTAINS\]: property 'quantity' is declared integer/);
  });
});

describe("schema rules", () => {
  const type = "WRITER_TEST_RACE";
  const label = "WriterTestRace";
  afterAll(async () => {
    await driver.executeQuery(`DROP INDEX rel_${type.toLowerCase()}_ingestSourceKey_index IF EXISTS`);
    await driver.executeQuery(`DROP INDEX ${label.toLowerCase()}_ingestSourceKey_index IF EXISTS`);
    await driver.executeQuery(`DROP CONSTRAINT ${label.toLowerCase()}_key_unique IF EXISTS`);
  });

  it("creates one index or constraint asked for by several sessions at once (two assets of one relationship type)", async () => {
    const times = Array.from({ length: 6 });
    await Promise.all([
      ...times.map(() => ensureRelationshipIndex(driver, type, "ingestSourceKey")),
      ...times.map(() => ensureIndex(driver, label, "ingestSourceKey")),
      ...times.map(() => ensureUniqueKey(driver, label, "key")),
    ]);
    const { records } = await driver.executeQuery(
      `SHOW INDEXES YIELD name, state, labelsOrTypes WHERE labelsOrTypes IN [[$type], [$label]] RETURN name, state ORDER BY name`,
      { type, label },
    );
    expect(records.map((r) => [r.get("name"), r.get("state")]).sort()).toEqual([
      [`rel_${type.toLowerCase()}_ingestSourceKey_index`, "ONLINE"],
      [`${label.toLowerCase()}_ingestSourceKey_index`, "ONLINE"],
      [`${label.toLowerCase()}_key_unique`, "ONLINE"],
    ]);
  });
});
