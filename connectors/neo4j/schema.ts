import type { Driver } from "neo4j-driver";
import { assertIdentifier } from "../identifiers.ts";

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
  await driver.executeQuery(
    `CREATE INDEX ${label.toLowerCase()}_${property}_index IF NOT EXISTS FOR (n:${label}) ON (n.${property})`,
  );
}

/** When each driver last saw each `label.key` constrained: a load's chunks, seconds apart, check once. */
const constrainedAt = new WeakMap<Driver, Map<string, number>>();

/** MERGE on a key without a uniqueness constraint scans the label for every row, and can duplicate nodes under concurrency. */
export async function assertUniqueKey(driver: Driver, label: string, key: string): Promise<void> {
  const seen = constrainedAt.get(driver) ?? new Map<string, number>();
  constrainedAt.set(driver, seen);
  if (Date.now() - (seen.get(`${label}.${key}`) ?? -Infinity) < 60_000) return;
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
  seen.set(`${label}.${key}`, Date.now());
}
