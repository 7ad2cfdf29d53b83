import { setTimeout as sleep } from "node:timers/promises";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { MetadataDatabase } from "../db/schema.ts";
import { postgresConnectionError, type SettingSource, unreachableStore } from "./connection-errors.ts";
import { logger } from "./logger.ts";
import { rememberServer, serverOf } from "./servers.ts";

// int8 (counts, bigserial ids) as JS numbers: every value we store fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** How long a pool that has connected once waits for its database to come back: `INGEST_DB_OUTAGE_MS`, or 5 minutes. */
export function databaseOutageMs(): number {
  const ms = Number(process.env.INGEST_DB_OUTAGE_MS ?? 300_000);
  if (!Number.isFinite(ms) || ms < 0) {
    throw new Error(
      `INGEST_DB_OUTAGE_MS must be a number of milliseconds ≥ 0, not '${process.env.INGEST_DB_OUTAGE_MS}'`,
    );
  }
  return ms;
}

/** The waits between connection attempts during an outage: 0.5, 1, 2, 4 s, then every 5 s. */
const reconnectDelayMs = (attempt: number) => Math.min(500 * 2 ** attempt, 5_000);

/**
 * A pool that rides out a restart of its database. Once it has connected, a connection that cannot be
 * made because the server is down, restarting or starting up is tried again, with backoff, for up to
 * {@link databaseOutageMs}: a worker, the daemon and the queue they share carry on after a Postgres
 * restart instead of failing what they were doing. A database never reached fails at once, as does
 * any other error (a wrong password, a missing database). A query cut off by the restart still fails:
 * its caller decides whether it is safe to repeat.
 */
class OutageTolerantPool extends pg.Pool {
  #connected = false;
  #outageSince: number | undefined;
  #warnedAt: number | undefined;

  override connect(): Promise<pg.PoolClient>;
  override connect(
    callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void,
  ): void;
  override connect(
    callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void,
  ): Promise<pg.PoolClient> | void {
    const connecting = this.#connectRidingOutages();
    if (!callback) return connecting;
    connecting.then(
      (client) => callback(undefined, client, (release) => client.release(release as Error | boolean | undefined)),
      (error: Error) => callback(error, undefined, () => {}),
    );
  }

  async #connectRidingOutages(): Promise<pg.PoolClient> {
    for (let attempt = 0;; attempt++) {
      try {
        const client = await super.connect();
        if (this.#outageSince !== undefined) {
          logger.warn({ server: serverOf(this), ms: Date.now() - this.#outageSince }, "the database answers again");
          this.#outageSince = this.#warnedAt = undefined;
        }
        this.#connected = true;
        return client;
      } catch (error) {
        const unreachable = unreachableStore(error);
        if (!this.#connected || !unreachable || this.ending) throw error;
        const since = this.#outageSince ??= Date.now();
        const waited = Date.now() - since;
        const budget = databaseOutageMs();
        if (waited >= budget) {
          throw new Error(`the database has been unreachable for ${Math.round(waited / 1000)} s: ${unreachable}`, {
            cause: error,
          });
        }
        const delayMs = Math.min(reconnectDelayMs(attempt), budget - waited);
        // A line when the outage starts and one every 30 s, not one per attempt of every caller.
        if (this.#warnedAt === undefined || Date.now() - this.#warnedAt >= 30_000) {
          this.#warnedAt = Date.now();
          logger.warn(
            { server: serverOf(this), waitedMs: waited, budgetMs: budget },
            `the database is unreachable (${unreachable}); waiting for it`,
          );
        }
        await sleep(delayMs);
      }
    }
  }
}

/**
 * A node-postgres pool of at most `max` connections (default 10), without connecting: the first query
 * does, and fails there if the database cannot be reached. Once connected, it waits out a restart of
 * the database (see {@link databaseOutageMs}); a connection that loses its server fails its query
 * instead of crashing the process. The caller ends it (`pool.end()`). `int8` values (counts,
 * bigserial ids) come back as JavaScript numbers, for every pool in the process.
 *
 * @example
 * ```ts
 * const pool = createPool(settings().databaseUrl);
 * try {
 *   await prepareDatabase(pool);
 * } finally {
 *   await pool.end();
 * }
 * ```
 */
export function createPool(connectionString: string, max = 10): pg.Pool {
  const pool = new OutageTolerantPool({ connectionString, max });
  // A client losing its server (a restart, a network blip) must fail its query, not crash the process.
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  return rememberServer(pool, connectionString);
}

/**
 * A pool that has answered once: a database that cannot be reached fails here, with a
 * {@link postgresConnectionError} naming `what`, its address and `source`, not in the first query of a
 * run. A local-stack URL without a password (the stack never started here) is refused without
 * connecting: the server would hold the half-open login until its authentication timeout.
 */
export async function openPool(
  url: string,
  { what, source, max }: { what: string; source: SettingSource; max?: number },
): Promise<pg.Pool> {
  if (!source.fromEnvironment && /^postgres(ql)?:\/\//.test(url) && !new URL(url).password) {
    throw postgresConnectionError(what, url, source, new Error("password authentication: no password"));
  }
  let pool: pg.Pool;
  try {
    pool = createPool(url, max);
  } catch (error) {
    throw postgresConnectionError(what, url, source, error);
  }
  await pool.query("select 1").catch(async (error: unknown) => {
    await pool.end();
    throw postgresConnectionError(what, url, source, error);
  });
  return pool;
}

/**
 * The metadata store (schema `ingest`) through kysely, on a pool the caller owns: what `requestRun`,
 * `waitForRun`, `assetStatuses`, `lineageOf` and `listTicks` take. Destroying it ends the pool.
 *
 * @example
 * ```ts
 * const pool = createPool(settings().databaseUrl);
 * const db = metadataDb(pool);
 * const runs = await db.selectFrom("ingest.runs").select(["id", "status"]).orderBy("created_at", "desc").limit(5).execute();
 * ```
 */
export function metadataDb(pool: pg.Pool): Kysely<MetadataDatabase> {
  return new Kysely<MetadataDatabase>({ dialect: new PostgresDialect({ pool }) });
}

export type { pg };
