import neo4jDriver, { type Driver, type Record as Neo4jRecord } from "neo4j-driver";
import { assertIdentifier, isIdentifier } from "../identifiers.ts";
import { sliced, writeLanes } from "./batches.ts";
import { assertUniqueKey } from "./schema.ts";

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

/** The fastest settings measured by `node bench/neo4j-tune.ts` (bench/README.md). */
const nodeDefaults = { batchSize: 5_000, concurrency: 2 };
const relationshipDefaults = { batchSize: 10_000, concurrency: 2 };

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
 * (props may hold the key too; the row's key wins). The label's key must carry a uniqueness
 * constraint (`ensureUniqueKey`): it is checked first.
 *
 * ```ts
 * await ensureUniqueKey(driver, "Order", "orderId");
 * await mergeNodes(driver, "Order", "orderId", [{ key: "o1", props: { total: 9.5, items: 3 } }], { integers: ["items"] });
 * ```
 */
export async function mergeNodes(
  driver: Driver,
  label: string,
  key: string,
  rows: NodeRow[],
  options: WriteOptions = {},
): Promise<NodeWriteResult> {
  assertIdentifier("label", label);
  assertIdentifier("property key", key);
  const { batchSize, concurrency } = { ...nodeDefaults, ...definedOnly(options) };
  if (rows.length === 0) return { written: 0 };
  const integers = new Set(options.integers);
  checkIntegers(
    `:${label}`,
    integers,
    rows,
    (row, k) => (k === key ? row.key : row.props[k]),
    (row) => `key ${JSON.stringify(row.key)}`,
  );
  const columns = columnsOf(rows, key);
  assertPropertyKeys(`:${label}`, columns, rows, (row) => `key ${JSON.stringify(row.key)}`);
  await assertUniqueKey(driver, label, key);
  const encode = rowEncoder(columns, integers, (row: NodeRow) => [integers.has(key) ? asInteger(row.key) : row.key]);
  const set = setters("n", columns, 1);
  // A new node only gains properties: `SET n = …` would first remove the key just MERGEd (one more index update).
  const statement = `UNWIND $rows AS row
    MERGE (n:${label} {${key}: row[0]})
    ${set.onCreate}
    ON MATCH SET n = ${set.map}, n.${key} = row[0]
    RETURN count(n) AS written`;
  const batches = sliced(rows, batchSize, encode);
  const totals = await writeLanes(driver, statement, Array.from({ length: concurrency }, () => batches));
  return { written: totals.written ?? 0 };
}

export interface RelationshipEnd {
  label: string;
  key: string;
  /** The key property holds Neo4j INTEGERs: values are sent as such. */
  integer?: boolean;
}

export interface RelationshipRow {
  start: unknown;
  end: unknown;
  /** With `identity`: what identifies the relationship beside its asset (the source record's key). */
  key?: string;
  props: Record<string, unknown>;
}

/** How a relationship is found again: by the asset that wrote it and its row's key, whatever its ends. */
export interface RelationshipIdentity {
  asset: string;
}

/**
 * MERGEs relationships between existing nodes in `UNWIND` batches. Each row is `{ start, end, props }`;
 * props replace the relationship's properties. A row whose end nodes do not exist writes nothing,
 * and is counted as missing. Both ends' keys must carry uniqueness constraints (checked first),
 * else every MATCH would scan the label.
 *
 * Without `identity` there is one relationship per (start, end) pair. With it, one per row `key`:
 * the MERGE matches only a relationship between the two nodes that carries `ingestAsset` = the
 * identity's asset and `ingestSourceKey` = the key (the props should set both, as lineage does).
 *
 * With `concurrency` k > 1 the rows are split by start key and by end key into k×k buckets and
 * written in k rounds of k buckets whose start and end groups are all different, so no node is
 * locked by two transactions at once (the idea of neo4j-parallel-spark-loader). When both ends have
 * the same label that split cannot keep them apart, and the batches are written one at a time.
 * Deadlocks that still happen are transient errors the driver retries.
 *
 * ```ts
 * await mergeRelationships(driver, "CONTAINS", { label: "Order", key: "orderId" }, { label: "Product", key: "sku" },
 *   [{ start: "o1", end: "p9", props: { quantity: 2, unitPrice: 4.5 } }], { integers: ["quantity"] });
 * ```
 */
export async function mergeRelationships(
  driver: Driver,
  type: string,
  start: RelationshipEnd,
  end: RelationshipEnd,
  rows: RelationshipRow[],
  options: WriteOptions & { identity?: RelationshipIdentity } = {},
): Promise<RelationshipWriteResult> {
  assertRelationshipIdentifiers(type, start, end);
  const { batchSize, concurrency } = { ...relationshipDefaults, ...definedOnly(options) };
  if (rows.length === 0) return { written: 0, missingEnds: 0, unwritten: [] };
  const integers = new Set(options.integers);
  checkIntegers(
    `[:${type}]`,
    integers,
    rows,
    (row, k) => row.props[k],
    (row) => `${JSON.stringify(row.start)}->${JSON.stringify(row.end)}`,
  );
  await assertUniqueKey(driver, start.label, start.key);
  await assertUniqueKey(driver, end.label, end.key);
  const identity = options.identity;
  if (identity && rows.some((row) => typeof row.key !== "string")) {
    throw new Error(`[:${type}]: with an identity every row needs its key`);
  }
  const columns = columnsOf(rows);
  assertPropertyKeys(`[:${type}]`, columns, rows, (row) => `${JSON.stringify(row.start)}->${JSON.stringify(row.end)}`);
  const head = endEncoder<RelationshipRow>(start, end, identity !== undefined);
  const props = rowEncoder(columns, integers, head);
  // Each row travels with its position here, and each batch returns the positions it wrote: the rows
  // it did not write (an end node missing) are known exactly, without asking the graph again.
  const position = columns.length + (identity ? 3 : 2);
  const positions = new Map(rows.map((row, i) => [row, i]));
  const encode = (row: RelationshipRow) => [...props(row), positions.get(row)];
  const set = setters("r", columns, identity ? 3 : 2);
  const pattern = identity ? `[r:${type} {ingestAsset: $asset, ingestSourceKey: row[2]}]` : `[r:${type}]`;
  const statement = `UNWIND $rows AS row
    MATCH (a:${start.label} {${start.key}: row[0]})
    MATCH (b:${end.label} {${end.key}: row[1]})
    MERGE (a)-${pattern}->(b)
    ${set.onCreate}
    ON MATCH SET r = ${set.map}
    RETURN count(r) AS written, collect(row[${position}]) AS positions`;
  const params = identity ? { asset: identity.asset } : {};
  const done = new Set<number>();
  const collect = (records: Neo4jRecord[]) => {
    for (const p of records[0]?.get("positions") ?? []) done.add(Number(p));
  };
  let written = 0;
  if (concurrency <= 1 || start.label === end.label) {
    written = (await writeLanes(driver, statement, [sliced(rows, batchSize, encode)], params, collect)).written ?? 0;
  } else {
    for (const round of disjointRounds(rows, concurrency)) {
      const lanes = round.map((bucket) => sliced(bucket, batchSize, encode));
      written += (await writeLanes(driver, statement, lanes, params, collect)).written ?? 0;
    }
  }
  const unwritten = rows.filter((_, i) => !done.has(i));
  return { written, missingEnds: unwritten.length, unwritten };
}

export interface RelationshipWriteResult {
  written: number;
  /** Rows not written because an end node is not in the graph. */
  missingEnds: number;
  /** Those rows, as given. */
  unwritten: RelationshipRow[];
}

/** Which end nodes of a relationship row are not in the graph. */
export interface MissingEnds {
  start: boolean;
  end: boolean;
}

/**
 * For each row (in order), whether its start and end nodes are missing: why `mergeRelationships`
 * could not write it. Nodes only; it never looks at relationships, whose plan would depend on
 * how many there were when it was first planned.
 */
export async function missingEnds(
  driver: Driver,
  start: RelationshipEnd,
  end: RelationshipEnd,
  rows: { start: unknown; end: unknown }[],
): Promise<MissingEnds[]> {
  for (const e of [start, end]) {
    assertIdentifier("label", e.label);
    assertIdentifier("property key", e.key);
  }
  const head = endEncoder<{ start: unknown; end: unknown }>(start, end, false);
  const missing: MissingEnds[] = [];
  for (let offset = 0; offset < rows.length; offset += 10_000) {
    const { records } = await driver.executeQuery(
      `UNWIND $rows AS row
       OPTIONAL MATCH (a:${start.label} {${start.key}: row[0]})
       OPTIONAL MATCH (b:${end.label} {${end.key}: row[1]})
       RETURN a IS NULL AS start, b IS NULL AS end`,
      { rows: rows.slice(offset, offset + 10_000).map(head) },
      { routing: "READ" },
    );
    for (const r of records) missing.push({ start: r.get("start"), end: r.get("end") });
  }
  return missing;
}

/** The relationship type and both ends' labels and keys go into Cypher as text: each must be a plain identifier. */
export function assertRelationshipIdentifiers(type: string, start: RelationshipEnd, end: RelationshipEnd): void {
  assertIdentifier("relationship type", type);
  for (const e of [start, end]) {
    assertIdentifier("label", e.label);
    assertIdentifier("property key", e.key);
  }
}

function definedOnly(options: WriteOptions): { batchSize?: number; concurrency?: number } {
  const out: { batchSize?: number; concurrency?: number } = {};
  for (const name of ["batchSize", "concurrency"] as const) {
    const value = options[name];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, not ${value}`);
    out[name] = value;
  }
  return out;
}

const isInteger = (value: unknown) =>
  value === null || value === undefined || (typeof value === "number" && Number.isSafeInteger(value)) ||
  typeof value === "bigint" || neo4jDriver.isInt(value);

export const asInteger = (value: unknown): unknown => (typeof value === "number" ? neo4jDriver.int(value) : value);

/** A relationship row's leading columns: its ends' keys (as INTEGERs where the key is), then its key. */
function endEncoder<R extends { start: unknown; end: unknown; key?: string }>(
  start: RelationshipEnd,
  end: RelationshipEnd,
  keyed: boolean,
): (row: R) => unknown[] {
  const [s, e] = [start.integer ? asInteger : (v: unknown) => v, end.integer ? asInteger : (v: unknown) => v];
  return keyed ? (row) => [s(row.start), e(row.end), row.key] : (row) => [s(row.start), e(row.end)];
}

/** Rejects the whole write before any batch is sent, so a bad value leaves nothing half-written. */
function checkIntegers<R>(
  target: string,
  integers: Set<string>,
  rows: R[],
  valueOf: (row: R, key: string) => unknown,
  describe: (row: R) => string,
): void {
  for (const k of integers) {
    for (let i = 0; i < rows.length; i++) {
      const value = valueOf(rows[i]!, k);
      if (!isInteger(value)) {
        throw new Error(
          `${target}: property '${k}' is declared integer, but row ${i} (${describe(rows[i]!)}) has ${
            typeof value === "string" ? JSON.stringify(value) : String(value)
          }`,
        );
      }
    }
  }
}

/** Every property key of the rows, first seen first: rows travel as lists in this order (maps would repeat each key in every row). */
function columnsOf(rows: { props: Record<string, unknown> }[], except?: string): string[] {
  const columns = new Set<string>();
  for (const row of rows) for (const k of Object.keys(row.props)) columns.add(k);
  if (except !== undefined) columns.delete(except);
  return [...columns];
}

function rowEncoder<R extends { props: Record<string, unknown> }>(
  columns: string[],
  integers: Set<string>,
  head: (row: R) => unknown[],
): (row: R) => unknown[] {
  const integral = columns.map((c) => integers.has(c));
  return (row) => {
    const out = head(row);
    for (let i = 0; i < columns.length; i++) {
      const value = row.props[columns[i]!];
      out.push(value === undefined ? null : integral[i] && typeof value === "number" ? neo4jDriver.int(value) : value);
    }
    return out;
  };
}

/**
 * Property keys go into the statement as text, and a row's keys may come from its source (a field a
 * staged asset keeps under `schema: "evolve"`): each must be a plain identifier, else nothing is written.
 * Quoting is no way out: Neo4j reads `\u0060` inside backticks as a backtick, which ends the name.
 */
function assertPropertyKeys<R extends { props: Record<string, unknown> }>(
  target: string,
  columns: string[],
  rows: R[],
  describe: (row: R) => string,
): void {
  for (const column of columns) {
    if (isIdentifier(column)) continue;
    const i = rows.findIndex((row) => Object.hasOwn(row.props, column));
    try {
      assertIdentifier("property key", column);
    } catch (error) {
      throw new Error(`${target}: row ${i} (${describe(rows[i]!)}) has an ${(error as Error).message}`);
    }
  }
}

/** A checked property key in Cypher, in backticks so that one that is also a keyword (`end`, `order`) stays a name. */
const quoted = (name: string) => `\`${name}\``;

/** Setting a column to null removes that property, as a missing key in `SET x = map` does. */
function setters(variable: string, columns: string[], offset: number): { onCreate: string; map: string } {
  const at = (i: number) => `row[${i + offset}]`;
  return {
    onCreate: columns.length === 0
      ? ""
      : `ON CREATE SET ${columns.map((c, i) => `${variable}.${quoted(c)} = ${at(i)}`).join(", ")}`,
    map: `{${columns.map((c, i) => `${quoted(c)}: ${at(i)}`).join(", ")}}`,
  };
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
  return Array.from(
    { length: k },
    (_, r) => buckets.map((byEnd, i) => byEnd[(i + r) % k]!).filter((b) => b.length > 0),
  );
}
