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

export interface NodeWriteResult {
  written: number;
}

/**
 * MERGEs nodes on their key in `UNWIND` batches, each batch one managed transaction (retried by the
 * driver on transient errors). Each row is `{ key, props }`; props replace the node's properties.
 */
export async function mergeNodes(
  driver: Driver,
  label: string,
  key: string,
  rows: { key: string | number; props: Record<string, unknown> }[],
  batchSize = 5_000,
): Promise<NodeWriteResult> {
  assertIdentifier("label", label);
  assertIdentifier("property key", key);
  const statement = `UNWIND $rows AS row MERGE (n:${label} {${key}: row.key}) SET n = row.props, n.${key} = row.key RETURN count(n) AS written`;
  return { written: await writeInBatches(driver, statement, rows, batchSize) };
}

/**
 * Runs a write statement over `$rows` in batches on one session, each batch one managed transaction
 * (retried by the driver on transient errors); sums what the statement returns as `written`.
 */
async function writeInBatches(driver: Driver, statement: string, rows: unknown[], batchSize: number): Promise<number> {
  const session = driver.session();
  let written = 0;
  try {
    for (let offset = 0; offset < rows.length; offset += batchSize) {
      const batch = rows.slice(offset, offset + batchSize);
      const result = await session.executeWrite((tx) => tx.run(statement, { rows: batch }));
      written += result.records[0]?.get("written").toNumber() ?? 0;
    }
  } finally {
    await session.close();
  }
  return written;
}

export interface RelationshipEnd {
  label: string;
  key: string;
}

/**
 * MERGEs relationships between existing nodes in `UNWIND` batches. Each row is `{ start, end, props }`;
 * a row whose end nodes do not exist writes nothing, and is counted as missing.
 */
export async function mergeRelationships(
  driver: Driver,
  type: string,
  start: RelationshipEnd,
  end: RelationshipEnd,
  rows: { start: unknown; end: unknown; props: Record<string, unknown> }[],
  batchSize = 5_000,
): Promise<{ written: number; missingEnds: number }> {
  assertIdentifier("relationship type", type);
  for (const e of [start, end]) {
    assertIdentifier("label", e.label);
    assertIdentifier("property key", e.key);
  }
  const statement = `UNWIND $rows AS row
    MATCH (a:${start.label} {${start.key}: row.start})
    MATCH (b:${end.label} {${end.key}: row.end})
    MERGE (a)-[r:${type}]->(b) SET r = row.props
    RETURN count(r) AS written`;
  const written = await writeInBatches(driver, statement, rows, batchSize);
  return { written, missingEnds: rows.length - written };
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
