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

/**
 * A database of its own on the stack's Postgres, made afresh (dropped first if a earlier run left it):
 * its URL, for a test whose worker processes must not meet other tests' jobs in a shared queue.
 */
export async function freshDatabase(name: string): Promise<string> {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`not a database name: '${name}'`);
  const url = settings().databaseUrl;
  const admin = createPool(url, 1);
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return url.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
}

/** Drops a database made by {@link freshDatabase}. */
export async function dropDatabase(name: string): Promise<void> {
  const admin = createPool(settings().databaseUrl, 1);
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

/** {@link connect}, to the database at `databaseUrl` for the metadata, the queue and staging. */
export function connectTo(databaseUrl: string): ReturnType<typeof connect> {
  const previous = process.env.DATABASE_URL;
  process.env.DATABASE_URL = databaseUrl;
  try {
    return connect();
  } finally {
    if (previous === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = previous;
  }
}

/**
 * Runs `fn` with materialisations in this process riding out an unreachable store for `ms` only
 * (`INGEST_STORE_OUTAGE_MS`, 5 minutes by default): for a test of what a run does when a store stays down.
 */
export async function withStoreOutageMs<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const previous = process.env.INGEST_STORE_OUTAGE_MS;
  process.env.INGEST_STORE_OUTAGE_MS = String(ms);
  try {
    return await fn();
  } finally {
    if (previous === undefined) delete process.env.INGEST_STORE_OUTAGE_MS;
    else process.env.INGEST_STORE_OUTAGE_MS = previous;
  }
}
