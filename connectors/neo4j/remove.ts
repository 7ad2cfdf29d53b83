import neo4jDriver, { type Driver, type Record as Neo4jRecord } from "neo4j-driver";
import { assertIdentifier } from "../identifiers.ts";
import { writeInBatches } from "./batches.ts";
import { runInBatches } from "./driver.ts";
import { missingNode } from "./targets.ts";
import { asInteger, assertRelationshipIdentifiers, type RelationshipEnd } from "./write.ts";

/**
 * What a source record should have in a relationship set now: the ends' keys, or `start: null` when
 * it should have no relationship (the record is gone, its foreign key is null, `where` fails).
 */
export interface DesiredRelationship {
  key: string;
  start: unknown;
  end: unknown;
}

/**
 * Deletes the relationships of `type` that `asset` wrote for these source records and that are not
 * what the record wants now: a removed record's, or one whose start or end moved. Each is found by
 * its `ingestSourceKey` (a relationship index), whatever its ends were, so a record that moved from
 * one start node to another leaves nothing behind. `removed` counts the relationships of records
 * that want none now, `moved` the ones deleted because their ends changed.
 */
export async function removeRelationships(
  driver: Driver,
  type: string,
  start: RelationshipEnd,
  end: RelationshipEnd,
  rows: DesiredRelationship[],
  asset: string,
): Promise<{ removed: number; moved: number }> {
  assertRelationshipIdentifiers(type, start, end);
  if (rows.length === 0) return { removed: 0, moved: 0 };
  const encode = (v: unknown, integer?: boolean) => (v === null || v === undefined ? null : integer ? asInteger(v) : v);
  const statement = `UNWIND $rows AS row
    MATCH ()-[r:${type} {ingestSourceKey: row[0]}]->()
    WHERE r.ingestAsset = $asset
    WITH r, row, startNode(r) AS a, endNode(r) AS b
    WHERE row[1] IS NULL OR row[2] IS NULL
       OR NOT (a:${start.label} AND a.${start.key} = row[1] AND b:${end.label} AND b.${end.key} = row[2])
    DELETE r
    RETURN sum(CASE WHEN row[1] IS NULL OR row[2] IS NULL THEN 1 ELSE 0 END) AS removed,
           sum(CASE WHEN row[1] IS NULL OR row[2] IS NULL THEN 0 ELSE 1 END) AS moved`;
  const encoded = rows.map((r) => {
    const wanted = r.start !== null && r.start !== undefined && r.end !== null && r.end !== undefined;
    return [r.key, wanted ? encode(r.start, start.integer) : null, wanted ? encode(r.end, end.integer) : null];
  });
  const totals = await writeInBatches(driver, statement, encoded, 5_000, { asset });
  return { removed: totals.removed ?? 0, moved: totals.moved ?? 0 };
}

/** A relationship of another asset that went with a deleted node: its asset must hold the record back. */
export interface DetachedRelationship {
  /** The relationship asset that wrote it. */
  consumer: string;
  sourceKey: string;
  /** `no (:Order {orderId: "o1"}) in the graph`, as that asset itself reports a missing end. */
  reason: string;
}

export interface NodeRemoval {
  /** Nodes deleted because their record is gone. */
  removed: number;
  /** Nodes deleted because their record's key changed (the node under the new key is written anew). */
  moved: number;
}

/**
 * Told the relationships of other assets that deleting nodes detaches: once before the delete (so a
 * crash in between loses none) and again with what the delete found (a relationship written meanwhile).
 */
export type HoldDetached = (detached: DetachedRelationship[]) => Promise<void>;

const detachedOf = (label: string, keyProperty: string) => (record: Neo4jRecord): DetachedRelationship[] => {
  const key = record.get("key");
  const reason = missingNode(label, keyProperty, neo4jDriver.isInt(key) ? key.toNumber() : key);
  return (record.get("detached") as [string, string][]).map(([consumer, sourceKey]) => ({
    consumer,
    sourceKey,
    reason,
  }));
};

/**
 * Detach-deletes nodes of `label` matched by `match` (which binds `n` from `row`), in batches of
 * 5,000: the relationships of relationship assets attached to them are handed to `hold` first, and
 * again after. `gone` in the statement tells a removed node from a moved one.
 */
async function removeNodesWhere(
  driver: Driver,
  label: string,
  keyProperty: string,
  match: string,
  rows: unknown[][],
  params: Record<string, unknown>,
  hold: HoldDetached,
): Promise<NodeRemoval> {
  const detached = `[(n)-[r]-() WHERE r.ingestAsset IS NOT NULL AND r.ingestSourceKey IS NOT NULL
      | [r.ingestAsset, r.ingestSourceKey]] AS detached`;
  const toDetached = detachedOf(label, keyProperty);
  const outcome: NodeRemoval = { removed: 0, moved: 0 };
  for (let offset = 0; offset < rows.length; offset += 5_000) {
    const batch = rows.slice(offset, offset + 5_000);
    const { records } = await driver.executeQuery(
      `UNWIND $rows AS row ${match} RETURN n.${keyProperty} AS key, ${detached}`,
      { ...params, rows: batch },
      { routing: "READ" },
    );
    if (records.length === 0) continue;
    await hold(records.flatMap(toDetached));
    const after: DetachedRelationship[] = [];
    await writeInBatches(
      driver,
      `UNWIND $rows AS row ${match}
       WITH n, row, n.${keyProperty} AS key, ${detached}
       DETACH DELETE n
       RETURN key, detached, row[1] IS NULL AS gone`,
      batch,
      batch.length,
      params,
      (deleted) => {
        for (const record of deleted) {
          after.push(...toDetached(record));
          if (record.get("gone")) outcome.removed += 1;
          else outcome.moved += 1;
        }
      },
    );
    await hold(after);
  }
  return outcome;
}

/**
 * Deletes the nodes `asset` wrote for these source records (found by `ingestSourceKey`, a node index)
 * when the record is gone (`key: null`) or its node's key changed: what a changed or removed record
 * wrote before. The relationships of other assets that go with them are handed to `hold`.
 */
export async function removeNodes(
  driver: Driver,
  label: string,
  keyProperty: string,
  rows: { sourceKey: string; key: unknown }[],
  asset: string,
  hold: HoldDetached,
  integerKey = false,
): Promise<NodeRemoval> {
  assertIdentifier("label", label);
  assertIdentifier("property key", keyProperty);
  const encoded = rows.map((
    r,
  ) => [r.sourceKey, r.key === null || r.key === undefined ? null : integerKey ? asInteger(r.key) : r.key]);
  const match = `MATCH (n:${label} {ingestSourceKey: row[0]})
    WHERE n.ingestAsset = $asset AND (row[1] IS NULL OR n.${keyProperty} <> row[1])`;
  return removeNodesWhere(driver, label, keyProperty, match, encoded, { asset }, hold);
}

/**
 * At the end of a full refresh: deletes the nodes of `label` that `asset` holds and none of `runs`
 * wrote (no longer staged), handing the relationships of other assets that go with them to `hold`.
 */
export async function sweepNodes(
  driver: Driver,
  label: string,
  keyProperty: string,
  asset: string,
  runs: string[],
  hold: HoldDetached,
): Promise<number> {
  assertIdentifier("label", label);
  assertIdentifier("property key", keyProperty);
  const stale = await runInBatches(
    driver,
    `MATCH (n:${label}) WHERE n.ingestAsset = $asset AND NOT n.ingestRunId IN $runs RETURN elementId(n) AS id`,
    { asset, runs },
  );
  // Matched by element id: a node of an older run may share its source key with this run's (its key changed).
  const rows = stale.map((r) => [r.get("id"), null]);
  const match = `MATCH (n:${label}) WHERE elementId(n) = row[0]`;
  return (await removeNodesWhere(driver, label, keyProperty, match, rows, {}, hold)).removed;
}

/**
 * At the end of a full refresh: deletes the relationships of `type` that `asset` holds and none of
 * `runs` wrote, in transactions of 5,000.
 */
export async function sweepRelationships(driver: Driver, type: string, asset: string, runs: string[]): Promise<number> {
  assertIdentifier("relationship type", type);
  const records = await runInBatches(
    driver,
    `MATCH ()-[r:${type}]->() WHERE r.ingestAsset = $asset AND NOT r.ingestRunId IN $runs
     CALL (r) { DELETE r } IN TRANSACTIONS OF 5000 ROWS
     RETURN count(*) AS removed`,
    { asset, runs },
  );
  return records[0]?.get("removed").toNumber() ?? 0;
}
