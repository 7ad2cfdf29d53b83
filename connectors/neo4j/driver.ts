import neo4jDriver, { type Driver } from "neo4j-driver";
import { type Neo4jSettings, settings } from "../../resources/settings.ts";

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
