import neo4jDriver, { type Driver } from "neo4j-driver";
import { settings, type Neo4jSettings } from "./settings.ts";
import { assertIdentifier } from "./identifiers.ts";

export type { Driver };

export function connectNeo4j(config: Neo4jSettings = settings().neo4j): Driver {
  if (config.password === undefined) {
    throw new Error(
      config.external
        ? "NEO4J_URI is set but NEO4J_PASSWORD (or NEO4J_PASSWORD_FILE) is not"
        : "the local Neo4j has no password yet: run `ingest stack up` first",
    );
  }
  return neo4jDriver.driver(config.uri, neo4jDriver.auth.basic(config.user, config.password), {
    disableLosslessIntegers: false,
    maxConnectionPoolSize: 50,
    logging: { level: "warn", logger: () => {} },
  });
}

/** Creates the uniqueness constraint a label's MERGE relies on; a no-op when it exists. */
export async function ensureUniqueKey(driver: Driver, label: string, key: string): Promise<void> {
  assertIdentifier("label", label);
  assertIdentifier("property key", key);
  const name = `${label.toLowerCase()}_${key}_unique`;
  await driver.executeQuery(
    `CREATE CONSTRAINT ${name} IF NOT EXISTS FOR (n:${label}) REQUIRE n.${key} IS UNIQUE`,
  );
}

/** Creates a range index on a label's property; a no-op when it exists. */
export async function ensureIndex(driver: Driver, label: string, property: string): Promise<void> {
  assertIdentifier("label", label);
  assertIdentifier("property key", property);
  await driver.executeQuery(`CREATE INDEX ${label.toLowerCase()}_${property}_index IF NOT EXISTS FOR (n:${label}) ON (n.${property})`);
}

/** How a node or relationship write is batched and typed. */
export interface WriteOptions {
  /** Rows per transaction (one `UNWIND $rows`); measured in bench/README.md. */
  batchSize?: number;
  /**
   * Transactions in flight at once, each on its own session, so the next batch is packed and sent
   * while one is in flight. Relationship batches in flight together never share a node (see mergeRelationships).
   */
  concurrency?: number;
  /**
   * Property keys whose values are written as Neo4j INTEGER: a JS number goes over Bolt as a FLOAT
   * otherwise. A value that is not a safe integer (or bigint, or neo4j Integer) is rejected, naming
   * the key, before anything is written. For nodes, the key property may be one of them.
   */
  integers?: readonly string[];
}

/** Measured by `node bench/neo4j-tune.ts` (bench/README.md): the defaults are the fastest there. */
const nodeDefaults = { batchSize: 10_000, concurrency: 2 };
const relationshipDefaults = { batchSize: 10_000, concurrency: 1 };

export interface NodeWriteResult {
  written: number;
}

export interface NodeRow {
  key: string | number;
  props: Record<string, unknown>;
}

/**
 * MERGEs nodes on their key in `UNWIND` batches, each batch one managed transaction (retried by the
 * driver on transient errors). Each row is `{ key, props }`; props replace the node's properties
 * (and may hold the key too, with the same value). The label's key must carry a uniqueness constraint (`ensureUniqueKey`): it is checked first.
 *
 * ```ts
 * await ensureUniqueKey(driver, "Order", "orderId");
 * await mergeNodes(driver, "Order", "orderId", [{ key: "o1", props: { total: 9.5, items: 3 } }], { integers: ["items"] });
 * ```
 */
export async function mergeNodes(driver: Driver, label: string, key: string, rows: NodeRow[], options: WriteOptions = {}): Promise<NodeWriteResult> {
  assertIdentifier("label", label);
  assertIdentifier("property key", key);
  const { batchSize, concurrency } = { ...nodeDefaults, ...definedOnly(options) };
  if (rows.length === 0) return { written: 0 };
  await assertUniqueKey(driver, label, key);
  const typed = integerTyping(`:${label}`, options.integers ?? []);
  typed.check(rows, (row, k) => (k === key ? row.key : row.props[k]), (row) => `key ${JSON.stringify(row.key)}`);
  const prepare = (row: NodeRow) => ({ key: typed.keys.has(key) ? typed.convert(row.key) : row.key, props: typed.props(row.props) });
  // A new node only gains properties: `SET n = …` would first remove the key just MERGEd (an index update and a constraint check more).
  const statement = `UNWIND $rows AS row
    MERGE (n:${label} {${key}: row.key})
    ON CREATE SET n += row.props
    ON MATCH SET n = row.props, n.${key} = row.key
    RETURN count(n) AS written`;
  const batches = sliced(rows, batchSize, prepare);
  return { written: await writeLanes(driver, statement, Array.from({ length: concurrency }, () => batches)) };
}

export interface RelationshipEnd {
  label: string;
  key: string;
}

export interface RelationshipRow {
  start: unknown;
  end: unknown;
  props: Record<string, unknown>;
}

/**
 * MERGEs relationships between existing nodes in `UNWIND` batches. Each row is `{ start, end, props }`;
 * a row whose end nodes do not exist writes nothing, and is counted as missing. Both ends' keys must
 * carry uniqueness constraints (checked first), else every MATCH would scan the label.
 *
 * With `concurrency` k > 1 the rows are split by start key and by end key into k×k buckets and
 * written in k rounds of k buckets whose start and end groups are all different, so no node is
 * locked by two transactions at once (the idea of neo4j-parallel-spark-loader). When both ends have
 * the same label that split cannot keep them apart, and the batches are written one at a time.
 * Deadlocks that still happen are transient errors the driver retries.
 */
export async function mergeRelationships(
  driver: Driver,
  type: string,
  start: RelationshipEnd,
  end: RelationshipEnd,
  rows: RelationshipRow[],
  options: WriteOptions = {},
): Promise<{ written: number; missingEnds: number }> {
  assertIdentifier("relationship type", type);
  for (const e of [start, end]) {
    assertIdentifier("label", e.label);
    assertIdentifier("property key", e.key);
  }
  const { batchSize, concurrency } = { ...relationshipDefaults, ...definedOnly(options) };
  if (rows.length === 0) return { written: 0, missingEnds: 0 };
  await assertUniqueKey(driver, start.label, start.key);
  await assertUniqueKey(driver, end.label, end.key);
  const typed = integerTyping(`[:${type}]`, options.integers ?? []);
  typed.check(rows, (row, k) => row.props[k], (row) => `${JSON.stringify(row.start)}->${JSON.stringify(row.end)}`);
  const prepare = (row: RelationshipRow) => ({ start: row.start, end: row.end, props: typed.props(row.props) });
  const statement = `UNWIND $rows AS row
    MATCH (a:${start.label} {${start.key}: row.start})
    MATCH (b:${end.label} {${end.key}: row.end})
    MERGE (a)-[r:${type}]->(b)
    ON CREATE SET r += row.props
    ON MATCH SET r = row.props
    RETURN count(r) AS written`;
  let written = 0;
  if (concurrency <= 1 || start.label === end.label) {
    written = await writeLanes(driver, statement, [sliced(rows, batchSize, prepare)]);
  } else {
    for (const round of disjointRounds(rows, concurrency)) {
      written += await writeLanes(driver, statement, round.map((bucket) => sliced(bucket, batchSize, prepare)));
    }
  }
  return { written, missingEnds: rows.length - written };
}

function definedOnly(options: WriteOptions): { batchSize?: number; concurrency?: number } {
  const out: { batchSize?: number; concurrency?: number } = {};
  if (options.batchSize !== undefined) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new Error(`batchSize must be a positive integer, not ${options.batchSize}`);
    out.batchSize = options.batchSize;
  }
  if (options.concurrency !== undefined) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) throw new Error(`concurrency must be a positive integer, not ${options.concurrency}`);
    out.concurrency = options.concurrency;
  }
  return out;
}

/** MERGE on a key without a uniqueness constraint scans the label for every row, and can duplicate nodes under concurrency. */
async function assertUniqueKey(driver: Driver, label: string, key: string): Promise<void> {
  const { records } = await driver.executeQuery(
    `SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties
     WHERE (type CONTAINS 'UNIQUENESS' OR type = 'NODE_KEY') AND labelsOrTypes = [$label] AND properties = [$key]
     RETURN count(*) AS n`,
    { label, key },
    { routing: "READ" },
  );
  if (records[0]!.get("n").toNumber() === 0) {
    throw new Error(`no uniqueness constraint on :${label}(${key}): create it before loading (ensureUniqueKey)`);
  }
}

function integerTyping(target: string, integers: readonly string[]) {
  const keys = new Set(integers);
  for (const k of keys) assertIdentifier("property key", k);
  const convert = (value: unknown): unknown => (typeof value === "number" ? neo4jDriver.int(value) : value);
  const isInteger = (value: unknown) =>
    value === null || value === undefined || (typeof value === "number" && Number.isSafeInteger(value)) || typeof value === "bigint" || neo4jDriver.isInt(value);
  return {
    keys,
    convert,
    /** Rejects the whole write before any batch is sent, so a bad value leaves nothing half-written. */
    check<R>(rows: R[], valueOf: (row: R, key: string) => unknown, describe: (row: R) => string): void {
      for (let i = 0; i < rows.length; i++) {
        for (const k of keys) {
          const value = valueOf(rows[i]!, k);
          if (!isInteger(value)) {
            throw new Error(`${target}: property '${k}' is declared integer, but row ${i} (${describe(rows[i]!)}) has ${typeof value === "string" ? JSON.stringify(value) : String(value)}`);
          }
        }
      }
    },
    props(props: Record<string, unknown>): Record<string, unknown> {
      if (keys.size === 0) return props;
      const out = { ...props };
      for (const k of keys) if (typeof out[k] === "number") out[k] = neo4jDriver.int(out[k]);
      return out;
    },
  };
}

/** Batches made one at a time, as a writer takes them: preparing the next overlaps the one in flight. */
function* sliced<R, P>(rows: R[], batchSize: number, prepare: (row: R) => P): Generator<P[]> {
  for (let offset = 0; offset < rows.length; offset += batchSize) {
    yield rows.slice(offset, offset + batchSize).map(prepare);
  }
}

function keyHash(value: unknown): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) return Math.abs(value);
  const text = String(value);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/**
 * k rounds of k buckets: bucket i of round r holds the rows whose start is in group i and whose end
 * is in group (i + r) mod k, so within a round no two buckets share a start or an end node.
 */
function disjointRounds(rows: RelationshipRow[], k: number): RelationshipRow[][][] {
  const buckets = Array.from({ length: k }, () => Array.from({ length: k }, (): RelationshipRow[] => []));
  for (const row of rows) buckets[keyHash(row.start) % k]![keyHash(row.end) % k]!.push(row);
  return Array.from({ length: k }, (_, r) => buckets.map((byEnd, i) => byEnd[(i + r) % k]!).filter((b) => b.length > 0));
}

/**
 * Runs a write statement over `$rows` in batches on one session, each batch one managed transaction
 * (retried by the driver on transient errors); sums what the statement returns as `written`.
 */
async function writeInBatches(driver: Driver, statement: string, rows: unknown[], batchSize: number, params: Record<string, unknown> = {}): Promise<number> {
  return writeLanes(driver, statement, [sliced(rows, batchSize, (row) => row)], params);
}

/**
 * Runs a write statement over `$rows`, one managed transaction per batch (retried by the driver on
 * transient errors, deadlocks included). Each lane runs on its own session, its batches one after
 * another; lanes run side by side (lanes may share one iterator, to take batches as they free up).
 * Sums what the statement returns as `written`.
 */
async function writeLanes(driver: Driver, statement: string, lanes: Iterable<unknown[]>[], params: Record<string, unknown> = {}): Promise<number> {
  let written = 0;
  let failed = false;
  const runLane = async (lane: Iterable<unknown[]>) => {
    const session = driver.session();
    try {
      for (const batch of lane) {
        if (failed) return;
        const result = await session.executeWrite((tx) => tx.run(statement, { ...params, rows: batch }));
        written += result.records[0]?.get("written").toNumber() ?? 0;
      }
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      await session.close();
    }
  };
  const outcomes = await Promise.allSettled(lanes.map(runLane));
  const rejected = outcomes.find((o) => o.status === "rejected");
  if (rejected) throw rejected.reason;
  return written;
}

/**
 * Runs a statement with `CALL { … } IN TRANSACTIONS`, which Neo4j accepts only in an auto-commit
 * transaction (not in the driver's managed ones); returns its records.
 */
export async function runInBatches(driver: Driver, statement: string, params: Record<string, unknown> = {}) {
  const session = driver.session();
  try {
    return (await session.run(statement, params)).records;
  } finally {
    await session.close();
  }
}

/** Detaches and deletes the nodes with these keys that `asset` wrote; returns how many went. */
export async function deleteNodes(driver: Driver, label: string, key: string, keys: unknown[], asset: string): Promise<number> {
  assertIdentifier("label", label);
  assertIdentifier("property key", key);
  const statement = `UNWIND $rows AS k MATCH (n:${label} {${key}: k}) WHERE n.ingestAsset = $asset DETACH DELETE n RETURN count(*) AS written`;
  return writeInBatches(driver, statement, keys, 5_000, { asset });
}

/**
 * Deletes the relationships of `type` that `asset` wrote from these source records, found from
 * their start node: what a changed or removed record had written.
 */
export async function deleteRelationshipsOf(
  driver: Driver,
  type: string,
  start: RelationshipEnd,
  rows: { start: unknown; sourceKey: string }[],
  asset: string,
): Promise<number> {
  assertIdentifier("relationship type", type);
  assertIdentifier("label", start.label);
  assertIdentifier("property key", start.key);
  const statement = `UNWIND $rows AS row
    MATCH (:${start.label} {${start.key}: row.start})-[r:${type}]->()
    WHERE r.ingestSourceKey = row.sourceKey AND r.ingestAsset = $asset
    DELETE r RETURN count(*) AS written`;
  return writeInBatches(driver, statement, rows, 5_000, { asset });
}

/**
 * Removes what `asset` holds that none of `runs` wrote (`pattern` binds `variable`; `remove` deletes
 * it), in transactions of 5,000: after a full refresh, that is what is no longer staged.
 */
export async function sweep(driver: Driver, pattern: string, variable: string, remove: string, asset: string, runs: string[]): Promise<number> {
  const records = await runInBatches(
    driver,
    `MATCH ${pattern} WHERE ${variable}.ingestAsset = $asset AND NOT ${variable}.ingestRunId IN $runs
     CALL (${variable}) { ${remove} } IN TRANSACTIONS OF 5000 ROWS
     RETURN count(*) AS removed`,
    { asset, runs },
  );
  return records[0]?.get("removed").toNumber() ?? 0;
}
