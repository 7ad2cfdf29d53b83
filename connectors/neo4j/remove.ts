import type { Driver } from "neo4j-driver";
import { assertIdentifier } from "../identifiers.ts";
import { writeInBatches } from "./batches.ts";
import { runInBatches } from "./driver.ts";
import type { RelationshipEnd } from "./write.ts";

/** Detaches and deletes the nodes with these keys that `asset` wrote; returns how many went. */
export async function deleteNodes(
  driver: Driver,
  label: string,
  key: string,
  keys: unknown[],
  asset: string,
): Promise<number> {
  assertIdentifier("label", label);
  assertIdentifier("property key", key);
  const statement =
    `UNWIND $rows AS k MATCH (n:${label} {${key}: k}) WHERE n.ingestAsset = $asset DETACH DELETE n RETURN count(*) AS written`;
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
export async function sweep(
  driver: Driver,
  pattern: string,
  variable: string,
  remove: string,
  asset: string,
  runs: string[],
): Promise<number> {
  const records = await runInBatches(
    driver,
    `MATCH ${pattern} WHERE ${variable}.ingestAsset = $asset AND NOT ${variable}.ingestRunId IN $runs
     CALL (${variable}) { ${remove} } IN TRANSACTIONS OF 5000 ROWS
     RETURN count(*) AS removed`,
    { asset, runs },
  );
  return records[0]?.get("removed").toNumber() ?? 0;
}
