import { once } from "node:events";
import { createWriteStream, readFileSync } from "node:fs";
import { join } from "node:path";
import neo4jDriver from "neo4j-driver";
import {
  connectNeo4j,
  type Driver,
  ensureRelationshipIndex,
  ensureUniqueKey,
  mergeNodes,
  mergeRelationships,
  type NodeRow,
  type RelationshipRow,
  runInBatches,
  type WriteOptions,
} from "../connectors/neo4j/index.ts";
import { startThrowawayNeo4j } from "../stack/neo4j.ts";
import { type BenchResult, result } from "./report.ts";

const envInt = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

/** Rows per mergeNodes / mergeRelationships call: one chunk, as the engine's node and relationship assets pass them. */
export const engineChunk = 50_000;
export const products = 20_000;

/** LOAD CSV at its best here (bench/README.md): rows per inner transaction, and how many run at once. */
const loadCsvBest = { nodes: { rows: 5_000, concurrent: 1 }, relationships: { rows: 10_000, concurrent: 1 } };

export type Variant =
  | { kind: "load-csv"; rows: number; concurrent: number }
  | { kind: "ours"; options: WriteOptions }
  | { kind: "per-row" };

export const describeVariant = (v: Variant) =>
  v.kind === "load-csv"
    ? `LOAD CSV … IN ${v.concurrent > 1 ? `${v.concurrent} CONCURRENT ` : ""}TRANSACTIONS OF ${v.rows} ROWS`
    : v.kind === "ours"
    ? `ours ${
      Object.keys(v.options).length === 0
        ? "(defaults)"
        : `batch ${v.options.batchSize}, concurrency ${v.options.concurrency}`
    }`
    : "per-row executeWrite";

export interface Measured {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** CPU time the server spent meanwhile: steadier than wall time on a busy machine. */
  serverCpuSeconds: number;
}

export interface Server {
  driver: Driver;
  importDir: string;
  /** User + system CPU seconds the server process has used so far. */
  cpuSeconds(): number;
}

/** Each variant gets a Neo4j of its own, started empty and deleted afterwards. */
export async function onFreshServer<T>(work: (server: Server) => Promise<T>): Promise<T> {
  const server = await startThrowawayNeo4j();
  const driver = connectNeo4j({ uri: server.uri, user: server.user, password: server.password, external: true });
  const cpuSeconds = () => {
    // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), in clock ticks of 1/100 s on Linux.
    const fields = readFileSync(`/proc/${server.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  try {
    return await work({ driver, importDir: server.importDir, cpuSeconds });
  } finally {
    await driver.close();
    await server.stop();
  }
}

async function writeCsv(
  path: string,
  header: string,
  first: number,
  count: number,
  line: (i: number) => string,
): Promise<void> {
  const out = createWriteStream(path);
  out.write(`${header}\n`);
  for (let from = first; from < first + count; from += 10_000) {
    let text = "";
    for (let i = from; i < Math.min(first + count, from + 10_000); i++) text += `${line(i)}\n`;
    if (!out.write(text)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

/**
 * Measures one write of rows [first, first + count). Only the writing is timed: the CSV file is
 * written beforehand, and ours builds each chunk's rows before its call, as the engine has them staged.
 */
async function measure(
  server: Server,
  count: number,
  write: (time: (work: () => Promise<unknown>) => Promise<void>) => Promise<void>,
): Promise<Measured> {
  let seconds = 0;
  let serverCpuSeconds = 0;
  await write(async (work) => {
    const started = performance.now();
    const cpu = server.cpuSeconds();
    await work();
    seconds += (performance.now() - started) / 1000;
    serverCpuSeconds += server.cpuSeconds() - cpu;
  });
  return { rows: count, seconds, rowsPerSecond: count / seconds, serverCpuSeconds };
}

async function inChunks<R>(
  first: number,
  count: number,
  row: (i: number) => R,
  each: (rows: R[]) => Promise<void>,
): Promise<void> {
  for (let from = first; from < first + count; from += engineChunk) {
    await each(Array.from({ length: Math.min(engineChunk, first + count - from) }, (_, j) => row(from + j)));
  }
}

async function scalar(driver: Driver, query: string): Promise<unknown> {
  const value = (await driver.executeQuery(query)).records[0]!.get(0);
  return typeof value?.toNumber === "function" ? value.toNumber() : value;
}

async function expectCount(driver: Driver, query: string, expected: number, what: string): Promise<void> {
  const actual = await scalar(driver, query);
  if (actual !== expected) throw new Error(`${what}: expected ${expected}, found ${actual}`);
}

// --- nodes: 6 properties (a string key, two strings, an integer, a float, a boolean) ---

function customer(i: number): NodeRow {
  return {
    key: `c${i}`,
    props: {
      name: `Customer ${i}`,
      email: `customer${i}@example.com`,
      age: 18 + ((i * 7919) % 70),
      score: ((i * 104_729) % 100_000) / 100 + 0.5,
      active: i % 3 !== 0,
    },
  };
}

function customerCsvLine(i: number): string {
  const { key, props } = customer(i);
  return `${key},${props.name},${props.email},${props.age},${props.score},${props.active}`;
}

/** The labels a measured write uses; the untimed warm-up writes the same shapes under others. */
export interface Labels {
  customer: string;
  order: string;
  product: string;
}
const measuredLabels: Labels = { customer: "Customer", order: "Order", product: "Product" };
const warmUpLabels: Labels = { customer: "WarmUpCustomer", order: "WarmUpOrder", product: "WarmUpProduct" };

const nodeCsvStatement = (v: { rows: number; concurrent: number }, labels: Labels) =>
  `LOAD CSV WITH HEADERS FROM 'file:///customers.csv' AS row
  CALL (row) {
    MERGE (n:${labels.customer} {id: row.id})
    SET n.name = row.name, n.email = row.email, n.age = toInteger(row.age), n.score = toFloat(row.score), n.active = toBoolean(row.active)
  } IN ${v.concurrent > 1 ? `${v.concurrent} CONCURRENT ` : ""}TRANSACTIONS OF ${v.rows} ROWS`;

/** Writes customers [first, first + count) on a server whose :Customer(id) is constrained. */
export async function writeCustomers(
  server: Server,
  variant: Variant,
  first: number,
  count: number,
  labels = measuredLabels,
): Promise<Measured> {
  const { driver } = server;
  return measure(server, count, async (time) => {
    if (variant.kind === "load-csv") {
      await writeCsv(
        join(server.importDir, "customers.csv"),
        "id,name,email,age,score,active",
        first,
        count,
        customerCsvLine,
      );
      await time(() => runInBatches(driver, nodeCsvStatement(variant, labels)));
    } else if (variant.kind === "ours") {
      await inChunks(
        first,
        count,
        customer,
        (rows) =>
          time(() => mergeNodes(driver, labels.customer, "id", rows, { integers: ["age"], ...variant.options })),
      );
    } else {
      const session = driver.session();
      try {
        await time(async () => {
          for (let i = first; i < first + count; i++) {
            const { key, props } = customer(i);
            await session.executeWrite((tx) =>
              tx.run(`MERGE (n:${labels.customer} {id: $key}) SET n += $props`, {
                key,
                props: { ...props, age: neo4jDriver.int(props.age as number) },
              })
            );
          }
        });
      } finally {
        await session.close();
      }
    }
  });
}

/**
 * Rows each variant first writes untimed under the warm-up labels, deleted before it is measured: a
 * fresh JVM on this machine needs a few hundred thousand rows before its JIT and heap settle (ours
 * ran at 3,500 rows/s in its first 50,000 rows, 22,000 after 450,000), which would bill the variants
 * unevenly rather than measure them.
 */
const warmUpRows = (variant: Variant) => {
  const rows = envInt("NEO4J_BENCH_WARM_UP", 300_000);
  return variant.kind === "per-row" ? Math.min(2_000, rows) : rows;
};

async function dropWarmUp(driver: Driver, keys: [string, string][]): Promise<void> {
  for (const [label, key] of keys) {
    await runInBatches(driver, `MATCH (n:${label}) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS`);
    await driver.executeQuery(`DROP CONSTRAINT ${label.toLowerCase()}_${key}_unique IF EXISTS`);
  }
}

async function customersVariant(variant: Variant, count: number): Promise<Measured> {
  return onFreshServer(async (server) => {
    await ensureUniqueKey(server.driver, warmUpLabels.customer, "id");
    await writeCustomers(server, variant, 0, warmUpRows(variant), warmUpLabels);
    await dropWarmUp(server.driver, [[warmUpLabels.customer, "id"]]);
    await ensureUniqueKey(server.driver, "Customer", "id");
    const measured = await writeCustomers(server, variant, 0, count);
    await expectCount(server.driver, "MATCH (n:Customer) RETURN count(n)", count, `${describeVariant(variant)}: nodes`);
    await expectCount(
      server.driver,
      "MATCH (n:Customer) WHERE valueType(n.age) <> 'INTEGER NOT NULL' OR valueType(n.score) <> 'FLOAT NOT NULL' RETURN count(n)",
      0,
      `${describeVariant(variant)}: nodes with a mistyped age or score`,
    );
    return measured;
  });
}

// --- relationships: (:Order)-[:CONTAINS {quantity, unitPrice, lineNo}]->(:Product), 3 lines an order ---

/**
 * How relationships are identified: `pair` MERGEs one per (start, end) pair; `record` one per source
 * record, as relationship assets write them (MERGE on `ingestAsset` and `ingestSourceKey`, which
 * has a relationship index, so a changed record's old relationship is found by it).
 */
type Identity = "pair" | "record";
const benchAsset = "graph/CONTAINS";

function orderLine(i: number, identity: Identity = "pair"): RelationshipRow {
  const order = Math.floor(i / 3);
  const line = i % 3;
  // Three different products an order (offsets 0, 6673, 13346 apart), spread over all of them.
  const product = ((Math.imul(order, 0x9e3779b1) >>> 0) + line * 6673) % products;
  const props = { quantity: 1 + ((i * 31) % 9), unitPrice: ((i * 7) % 5000) / 100 + 0.99, lineNo: line + 1 };
  if (identity === "pair") return { start: `o${order}`, end: `p${product}`, props };
  const key = `o${order}:${line + 1}`;
  return {
    start: `o${order}`,
    end: `p${product}`,
    key,
    props: { ...props, ingestAsset: benchAsset, ingestSourceKey: key },
  };
}

function orderLineCsvLine(i: number): string {
  const { start, end, props } = orderLine(i, "record");
  return `${start},${end},${props.quantity},${props.unitPrice},${props.lineNo},${props.ingestSourceKey}`;
}

const relationshipCsvStatement = (v: { rows: number; concurrent: number }, labels: Labels, identity: Identity) =>
  `LOAD CSV WITH HEADERS FROM 'file:///contains.csv' AS row
  CALL (row) {
    MATCH (o:${labels.order} {orderId: row.orderId})
    MATCH (p:${labels.product} {productId: row.productId})
    ${
    identity === "pair"
      ? "MERGE (o)-[r:CONTAINS]->(p)"
      : `MERGE (o)-[r:CONTAINS {ingestAsset: '${benchAsset}', ingestSourceKey: row.lineKey}]->(p)`
  }
    SET r.quantity = toInteger(row.quantity), r.unitPrice = toFloat(row.unitPrice), r.lineNo = toInteger(row.lineNo)
  } IN ${v.concurrent > 1 ? `${v.concurrent} CONCURRENT ` : ""}TRANSACTIONS OF ${v.rows} ROWS`;

/** The nodes order lines [0, lines) connect, created the fastest way: server-side CREATE, not timed. */
export async function createOrdersAndProducts(driver: Driver, lines: number, labels = measuredLabels): Promise<void> {
  await ensureUniqueKey(driver, labels.order, "orderId");
  await ensureUniqueKey(driver, labels.product, "productId");
  await runInBatches(
    driver,
    `UNWIND range(0, $n - 1) AS i CALL (i) { CREATE (:${labels.order} {orderId: 'o' + i}) } IN TRANSACTIONS OF 50000 ROWS`,
    { n: Math.ceil(lines / 3) },
  );
  await runInBatches(
    driver,
    `UNWIND range(0, $n - 1) AS i CALL (i) { CREATE (:${labels.product} {productId: 'p' + i}) } IN TRANSACTIONS OF 50000 ROWS`,
    { n: products },
  );
}

/** Writes order lines [first, first + count) as CONTAINS relationships between existing nodes. */
export async function writeOrderLines(
  server: Server,
  variant: Variant,
  first: number,
  count: number,
  labels = measuredLabels,
  identity: Identity = "pair",
): Promise<Measured> {
  const ends = [{ label: labels.order, key: "orderId" }, { label: labels.product, key: "productId" }] as const;
  const { driver } = server;
  return measure(server, count, async (time) => {
    if (variant.kind === "load-csv") {
      await writeCsv(
        join(server.importDir, "contains.csv"),
        "orderId,productId,quantity,unitPrice,lineNo,lineKey",
        first,
        count,
        orderLineCsvLine,
      );
      await time(() => runInBatches(driver, relationshipCsvStatement(variant, labels, identity)));
    } else if (variant.kind === "ours") {
      await inChunks(first, count, (i) => orderLine(i, identity), async (rows) => {
        let missing = 0;
        await time(async () => {
          ({ missingEnds: missing } = await mergeRelationships(driver, "CONTAINS", ...ends, rows, {
            integers: ["quantity", "lineNo"],
            ...variant.options,
            ...(identity === "record" && { identity: { asset: benchAsset } }),
          }));
        });
        if (missing > 0) throw new Error(`${missing} order lines found no end node`);
      });
    } else {
      throw new Error("the per-row loop is measured on nodes only");
    }
  });
}

async function orderLinesVariant(variant: Variant, count: number, identity: Identity = "pair"): Promise<Measured> {
  return onFreshServer(async (server) => {
    if (identity === "record") await ensureRelationshipIndex(server.driver, "CONTAINS", "ingestSourceKey");
    await createOrdersAndProducts(server.driver, warmUpRows(variant), warmUpLabels);
    await writeOrderLines(server, variant, 0, warmUpRows(variant), warmUpLabels, identity);
    await dropWarmUp(server.driver, [[warmUpLabels.order, "orderId"], [warmUpLabels.product, "productId"]]);
    await createOrdersAndProducts(server.driver, count);
    const measured = await writeOrderLines(server, variant, 0, count, measuredLabels, identity);
    await expectCount(
      server.driver,
      "MATCH ()-[r:CONTAINS]->() RETURN count(r)",
      count,
      `${describeVariant(variant)}: relationships`,
    );
    await expectCount(
      server.driver,
      "MATCH ()-[r:CONTAINS]->() WHERE valueType(r.quantity) <> 'INTEGER NOT NULL' OR valueType(r.lineNo) <> 'INTEGER NOT NULL' OR valueType(r.unitPrice) <> 'FLOAT NOT NULL' RETURN count(r)",
      0,
      `${describeVariant(variant)}: mistyped relationship properties`,
    );
    return measured;
  });
}

export function logMeasured(what: string, m: Measured): Measured {
  console.log(
    `neo4j: ${what}: ${m.rows} rows in ${m.seconds.toFixed(1)} s = ${Math.round(m.rowsPerSecond)} rows/s (server CPU ${
      m.serverCpuSeconds.toFixed(1)
    } s)`,
  );
  return m;
}

export async function neo4jBench(): Promise<BenchResult[]> {
  const nodes = envInt("NEO4J_BENCH_NODES", 1_000_000);
  const relationships = envInt("NEO4J_BENCH_RELATIONSHIPS", 3_000_000);
  const perRowSample = envInt("NEO4J_BENCH_PER_ROW", 10_000);
  const ours: Variant = { kind: "ours", options: {} };
  const csvNodes = { kind: "load-csv", ...loadCsvBest.nodes } as const;
  const csvRelationships = { kind: "load-csv", ...loadCsvBest.relationships } as const;

  const nodeReference = logMeasured(describeVariant(csvNodes), await customersVariant(csvNodes, nodes));
  const nodeOurs = logMeasured(describeVariant(ours), await customersVariant(ours, nodes));
  const perRow = logMeasured("per-row executeWrite", await customersVariant({ kind: "per-row" }, perRowSample));
  const relationshipReference = logMeasured(
    describeVariant(csvRelationships),
    await orderLinesVariant(csvRelationships, relationships),
  );
  const relationshipOurs = logMeasured(describeVariant(ours), await orderLinesVariant(ours, relationships));
  const keyedReference = logMeasured(
    `${describeVariant(csvRelationships)}, one per record`,
    await orderLinesVariant(csvRelationships, relationships, "record"),
  );
  const keyedOurs = logMeasured(
    `${describeVariant(ours)}, one per record`,
    await orderLinesVariant(ours, relationships, "record"),
  );

  const took = (m: Measured) => `${m.seconds.toFixed(1)} s (server CPU ${m.serverCpuSeconds.toFixed(1)} s)`;
  const common =
    `Each variant on its own freshly started, empty Neo4j 5.26 (our launcher, the stack's heap settings), uniqueness constraints created first. Ours: mergeNodes/mergeRelationships with their defaults, called with chunks of ${
      engineChunk.toLocaleString("en")
    } rows as the engine passes them (building the rows is not timed), integer properties declared. Every variant first writes 300,000 rows (the per-row loop 2,000) the same way under other labels, untimed, and deletes them, so the fresh JVM's warm-up bills none of them; every variant's integers are checked to arrive as INTEGER (valueType).`;
  return [
    result(
      `neo4j nodes: MERGE ${nodes.toLocaleString("en")} nodes with 6 properties, ours vs LOAD CSV`,
      nodeOurs.rowsPerSecond,
      nodeReference.rowsPerSecond,
      "rows/s",
      ">= 0.8",
      `${common} Reference: the same MERGE as ${
        describeVariant(csvNodes)
      } in an auto-commit transaction over a CSV in the server's import folder, its best setting here (bench/README.md). Ours ${
        took(nodeOurs)
      }, LOAD CSV ${took(nodeReference)}.`,
    ),
    result(
      "neo4j nodes: ours vs a per-row executeWrite loop",
      nodeOurs.rowsPerSecond,
      perRow.rowsPerSecond,
      "rows/s",
      ">= 30",
      `Per-row loop: one session.executeWrite(MERGE … SET) a row, on a ${
        perRowSample.toLocaleString("en")
      }-row sample on its own fresh server, since ${nodes.toLocaleString("en")} rows would take hours: ${
        took(perRow)
      }. Ours: the ${nodes.toLocaleString("en")}-node run above.`,
    ),
    result(
      `neo4j relationships: MATCH…MATCH…MERGE ${
        relationships.toLocaleString("en")
      } CONTAINS relationships with 3 properties, ours vs LOAD CSV`,
      relationshipOurs.rowsPerSecond,
      relationshipReference.rowsPerSecond,
      "rows/s",
      ">= 0.8",
      `${common} Between ${Math.ceil(relationships / 3).toLocaleString("en")} Order and ${
        products.toLocaleString("en")
      } Product nodes created beforehand (not timed), 3 lines an order, rows in order. Reference: ${
        describeVariant(csvRelationships)
      }, its best setting here. Ours ${took(relationshipOurs)}, LOAD CSV ${took(relationshipReference)}.`,
    ),
    result(
      `neo4j relationships, one per source record as relationship assets write them: MERGE on (ingestAsset, ingestSourceKey), indexed, ${
        relationships.toLocaleString("en")
      } CONTAINS, ours vs LOAD CSV`,
      keyedOurs.rowsPerSecond,
      keyedReference.rowsPerSecond,
      "rows/s",
      ">= 0.8",
      `As above, with a relationship range index on CONTAINS(ingestSourceKey) created first and the MERGE pattern carrying ingestAsset and ingestSourceKey, in both. Ours ${
        took(keyedOurs)
      }, LOAD CSV ${took(keyedReference)}; one per record costs ours ${
        (relationshipOurs.rowsPerSecond / keyedOurs.rowsPerSecond).toFixed(2)
      }x the time of one per pair (LOAD CSV ${
        (relationshipReference.rowsPerSecond / keyedReference.rowsPerSecond).toFixed(2)
      }x).`,
    ),
  ];
}
