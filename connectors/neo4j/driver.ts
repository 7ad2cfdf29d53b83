import neo4jDriver, { type Driver } from "neo4j-driver";
import { type Neo4jSettings, settings } from "../../resources/settings.ts";
import { rememberServer } from "../../resources/servers.ts";

export type { Driver };

/**
 * A Neo4j driver for `config` (default: `NEO4J_URI`, `NEO4J_USER`, `NEO4J_PASSWORD` or
 * `NEO4J_PASSWORD_FILE`, else the local stack's), without connecting: the first query does. Throws at
 * once when there is no password. The caller closes it. Integers come back as neo4j `Integer`s
 * (`.toNumber()`), so values beyond 2^53 survive.
 *
 * @example
 * ```ts
 * const neo4j = connectNeo4j();
 * try {
 *   const { records } = await neo4j.executeQuery("MATCH (p:Product) RETURN p.sku AS sku ORDER BY sku");
 *   console.log(records.map((r) => r.get("sku")));
 * } finally {
 *   await neo4j.close();
 * }
 * ```
 */
export function connectNeo4j(config: Neo4jSettings = settings().neo4j): Driver {
  if (config.password === undefined) {
    throw new Error(
      config.external
        ? "NEO4J_URI is set but NEO4J_PASSWORD (or NEO4J_PASSWORD_FILE) is not"
        : "the local Neo4j has no password yet: run `ingest stack up` first",
    );
  }
  const driver = neo4jDriver.driver(config.uri, neo4jDriver.auth.basic(config.user, config.password), {
    disableLosslessIntegers: false,
    maxConnectionPoolSize: 50,
    logging: { level: "warn", logger: () => {} },
  });
  return rememberServer(driver, config.uri);
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
