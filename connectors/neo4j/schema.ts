import { setTimeout as sleep } from "node:timers/promises";
import type { Driver } from "neo4j-driver";
import { assertIdentifier } from "../identifiers.ts";

/** Creates the uniqueness constraint a label's MERGE relies on; a no-op when it exists. */
export async function ensureUniqueKey(driver: Driver, label: string, key: string): Promise<void> {
  assertIdentifier("label", label);
  assertIdentifier("property key", key);
  const name = `${label.toLowerCase()}_${key}_unique`;
  const statement = `CREATE CONSTRAINT ${name} IF NOT EXISTS FOR (n:${label}) REQUIRE n.${key} IS UNIQUE`;
  try {
    await createSchemaRule(driver, statement);
  } catch (error) {
    if (!(await dropOrphanedIndex(driver, name))) throw error;
    await createSchemaRule(driver, statement);
  }
}

/**
 * Drops the index `name` if no constraint owns it: what a constraint's creation cut short (Neo4j killed
 * meanwhile) leaves behind, forever populating, and which stops the constraint being created again.
 * Whether there was one to drop.
 */
async function dropOrphanedIndex(driver: Driver, name: string): Promise<boolean> {
  const { records } = await driver.executeQuery(
    "SHOW INDEXES YIELD name, owningConstraint WHERE name = $name AND owningConstraint IS NULL RETURN name",
    { name },
  );
  if (records.length === 0) return false;
  await driver.executeQuery(`DROP INDEX ${name} IF EXISTS`);
  return true;
}

/**
 * Neo4j's codes for a schema rule that another session created between this one's check and its create:
 * `IF NOT EXISTS` only covers a rule that existed before the statement (two relationship assets of one
 * type, run side by side, both create its index).
 */
const createdMeanwhile = new Set([
  "Neo.ClientError.Schema.EquivalentSchemaRuleAlreadyExists",
  "Neo.ClientError.Schema.IndexAlreadyExists",
  "Neo.ClientError.Schema.ConstraintAlreadyExists",
]);

/** Runs a `CREATE … IF NOT EXISTS` of an index or constraint: the same rule created meanwhile by another session is success. */
async function createSchemaRule(driver: Driver, statement: string): Promise<void> {
  try {
    await driver.executeQuery(statement);
  } catch (error) {
    if (!createdMeanwhile.has((error as { code?: string }).code ?? "")) throw error;
  }
}

/**
 * Creates a range index on a label's property, and waits until it is online: a query planned while
 * it is still being populated (a new index over an existing label) would scan the label instead.
 * A no-op when it exists.
 */
export async function ensureIndex(driver: Driver, label: string, property: string): Promise<void> {
  assertIdentifier("label", label);
  assertIdentifier("property key", property);
  await createSchemaRule(
    driver,
    `CREATE INDEX ${label.toLowerCase()}_${property}_index IF NOT EXISTS FOR (n:${label}) ON (n.${property})`,
  );
  // Also when it existed: another process may have just created it.
  await untilOnline(driver, "NODE", label, property);
}

/** The same for a property of a relationship type (Neo4j 5 indexes relationship properties too). */
export async function ensureRelationshipIndex(driver: Driver, type: string, property: string): Promise<void> {
  assertIdentifier("relationship type", type);
  assertIdentifier("property key", property);
  await createSchemaRule(
    driver,
    `CREATE INDEX rel_${type.toLowerCase()}_${property}_index IF NOT EXISTS FOR ()-[r:${type}]-() ON (r.${property})`,
  );
  await untilOnline(driver, "RELATIONSHIP", type, property);
}

/**
 * Polls until the range index on `labelOrType(property)` is online. Each look is a short read of
 * its own: `CALL db.awaitIndexes()` holds a transaction open while it waits, and that blocks a
 * uniqueness constraint another session is creating from coming online (both then wait until the
 * timeout).
 */
async function untilOnline(driver: Driver, entityType: "NODE" | "RELATIONSHIP", labelOrType: string, property: string) {
  for (let waited = 0, pause = 50;; waited += pause, pause = Math.min(pause * 2, 1_000)) {
    const { records } = await driver.executeQuery(
      `SHOW RANGE INDEXES YIELD name, state, failureMessage, entityType, labelsOrTypes, properties
       WHERE entityType = $entityType AND labelsOrTypes = [$labelOrType] AND properties = [$property]
       RETURN name, state, failureMessage`,
      { entityType, labelOrType, property },
      { routing: "READ" },
    );
    const index = records[0];
    if (!index) throw new Error(`no range index on ${labelOrType}(${property}) after creating it`);
    if (index.get("state") === "ONLINE") return;
    if (index.get("state") === "FAILED") {
      throw new Error(`index ${index.get("name")} failed: ${index.get("failureMessage")}`);
    }
    if (waited > 3_600_000) throw new Error(`index ${index.get("name")} is still ${index.get("state")} after an hour`);
    await sleep(pause);
  }
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
