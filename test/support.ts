import type { Driver } from "neo4j-driver";
import type { AssetGraph } from "../engine/asset-graph.ts";
import { runInProcess, type RunRequest } from "../engine/runs.ts";
import { prepareDatabase } from "../engine/worker.ts";
import { connectChroma } from "../connectors/chroma/index.ts";
import { connectNeo4j } from "../connectors/neo4j/index.ts";
import { createMysqlPool } from "../connectors/mariadb/index.ts";
import { createPool, metadataDb, type pg } from "../resources/postgres.ts";
import { settings } from "../resources/settings.ts";

/** Connections to the real servers the test setup brought up. */
export async function connect() {
  const pool = createPool(settings().databaseUrl);
  await prepareDatabase(pool);
  const shop = createPool(settings().shopDatabaseUrl);
  // The CRM's own database (MariaDB): a pool connects on its first query, so tests that never use it need no server.
  const crmDatabase = createMysqlPool(settings().mariadb.url);
  const neo4j: Driver = connectNeo4j();
  const chroma = await connectChroma();
  const db = metadataDb(pool);
  return {
    pool,
    shop,
    crmDatabase,
    neo4j,
    chroma,
    db,
    async close() {
      await neo4j.close();
      await shop.end();
      await crmDatabase.end();
      await db.destroy();
    },
  };
}

/** Runs the selected assets to completion with a worker in this process, as `ingest materialize --wait` does. */
export function materialize(
  pool: pg.Pool,
  graph: AssetGraph,
  keys: Iterable<string> = graph.order,
  request: Partial<RunRequest> = {},
) {
  return runInProcess(pool, graph, { selection: [...keys].join(" "), keys, ...request }, {
    concurrency: 4,
    pollIntervalMs: 100,
  });
}
