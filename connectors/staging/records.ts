import { createHash } from "node:crypto";
import { canonicalJson } from "../../engine/canonical-json.ts";
import type { DeadLetterInput } from "../../engine/dead-letters.ts";

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export const contentHash = (record: unknown) => sha256(canonicalJson(record));

/** A row of a staging table: a validated record under its source key, or the tombstone of one. */
export interface StagedRecord<T> {
  /** The record's key in its source, as the staged asset's `sourceKey` gave it. */
  sourceKey: string;
  /** SHA-256 (hex) of the record's canonical JSON: a record is rewritten only when this changes. */
  contentHash: string;
  /** The record as the model output it (as JSON stores it: a `Date` comes back as a string). */
  record: T;
  /** The run that last changed this record. */
  runId: string;
  /**
   * Increases every time the record is written or removed (one sequence for all staging tables):
   * a consumer that has read up to a version has seen every change before it.
   */
  version: number;
  /** A tombstone: the record is gone from the source, and what was loaded from it must go too. */
  removed: boolean;
}

/** What a load did to a staging table: `StagingLoad.finish` reports it, and staged assets report it as counts. */
export interface StageCounts {
  /** Records received, duplicates included. */
  received: number;
  /** Received records whose source key came again later: only the latest of each key is staged. */
  deduplicated: number;
  /** New or changed records. */
  written: number;
  /** Records whose content hash had not changed: left as they were. */
  unchanged: number;
  /** Records no longer in the source, turned into tombstones (only when the load was the whole source). */
  removed: number;
}

/** A record a consumer read but could not load yet, and why: it is tried again on every materialisation. */
export interface PendingRecord {
  /** The record's source key. */
  sourceKey: string;
  /** Why it is held back: `no (:Product {productId: "p-17"}) in the graph`. */
  reason: string;
}

/** Where a consumer (a node, relationship or collection asset) is in reading a staging table. */
export interface LoadCursor {
  /** The consuming asset's key. */
  consumer: string;
  /** The staging table it reads. */
  table: string;
  /** Every change up to this version has been loaded. */
  position: number;
  /**
   * Set while a full refresh is under way: the runs that have loaded parts of it. When it ends, what
   * the consumer holds from any other run is no longer staged and is removed.
   */
  refreshRuns: string[] | null;
}

/**
 * How many levels a staged record's objects and arrays may nest: one nested deeper is dead-lettered as
 * `unparseable` rather than staged, and a raw record that deep is kept in a dead letter by its top-level fields.
 * Encoding one overflows the stack (at a few thousand levels) well before Postgres's own limit for jsonb, and no
 * real source nests anywhere near it; deep JSON is an attack. A deep field the model leaves out does no harm.
 */
export const maxRecordDepth = 1_000;

/** Whether `value`'s objects and arrays nest more than `depth` levels (found without recursion, so at any depth). */
export function nestedDeeperThan(value: unknown, depth: number): boolean {
  if (value === null || typeof value !== "object") return false;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, level] = stack.pop()!;
    if (level > depth) return true;
    if (ArrayBuffer.isView(v) || v instanceof Date) continue;
    for (const item of Array.isArray(v) ? v : Object.values(v as object)) {
      if (item !== null && typeof item === "object") stack.push([item, level + 1]);
    }
  }
  return false;
}

/**
 * The dead letter of a record nested deeper than {@link maxRecordDepth}: `unparseable`, as no store can hold
 * it, with what of it can be kept (`payload`: its top-level fields that are not objects, or its text).
 */
export function tooDeep(source: string, sourceKey: string | undefined, payload: unknown): DeadLetterInput {
  return {
    source,
    ...(sourceKey === undefined ? {} : { sourceKey }),
    reason: "unparseable",
    issues: [{ path: "(record)", message: `nested more than ${maxRecordDepth} levels deep: too deep to store` }],
    payload,
  };
}

/** A raw record as its dead letter keeps it: whole, unless nested too deeply to store (its top-level scalar fields). */
export const deadLetterPayload = (raw: unknown): unknown =>
  nestedDeeperThan(raw, maxRecordDepth) ? shallowFields(raw) : raw;

/** A record's top-level fields that are not objects or arrays: what identifies a record too deep to keep whole. */
export const shallowFields = (raw: unknown) =>
  typeof raw === "object" && raw !== null && !Array.isArray(raw)
    ? Object.fromEntries(Object.entries(raw).filter(([, v]) => v === null || typeof v !== "object"))
    : null;

/**
 * The longest source key staged, in UTF-8 bytes: a Postgres btree holds at most 2,704 bytes of a key (and a
 * node's key and `ingestSourceKey` go into Neo4j range indexes, of about 8 kB). A record with a longer key is
 * dead-lettered as `invalid` rather than failing every load of its staging table or node asset.
 */
export const maxSourceKeyBytes = 2_000;

/**
 * The dead letter of a record whose source key cannot be staged, or undefined: one longer than
 * {@link maxSourceKeyBytes}, or holding a NUL character, which no Postgres text can.
 */
export function unstorableKey(source: string, sourceKey: string, payload: unknown): DeadLetterInput | undefined {
  const invalid = (message: string): DeadLetterInput => ({
    source,
    sourceKey,
    reason: "invalid",
    issues: [{ path: "(source key)", message }],
    payload,
  });
  if (sourceKey.includes("\u0000")) return invalid("holds a NUL character, which Postgres text cannot");
  // three bytes a UTF-16 unit at most: only a long key is measured
  if (sourceKey.length * 3 <= maxSourceKeyBytes) return undefined;
  const bytes = new TextEncoder().encode(sourceKey).length;
  if (bytes <= maxSourceKeyBytes) return undefined;
  return invalid(`${bytes} bytes long: no index holds more than ${maxSourceKeyBytes}`);
}
