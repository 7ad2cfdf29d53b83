import type pg from "pg";
import { logger } from "../../resources/logger.ts";

/**
 * One daemon at a time evaluates schedules and sensors: the one holding a session-level advisory
 * lock on a connection of its own. When it dies its session ends, the lock goes with it, and a
 * standby takes over at its next try. The lock saves duplicate work; correctness never rests on it
 * (a daemon cut off from Postgres may still believe it leads for a moment): ticks are recorded under
 * unique keys and runs under ids fixed beforehand.
 */
export class Leadership {
  readonly #pool: pg.Pool;
  #client: pg.PoolClient | undefined;
  #held = false;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  get held(): boolean {
    return this.#held;
  }

  /** True while this daemon leads; tries to become leader when it does not. */
  async tryAcquire(): Promise<boolean> {
    if (this.#held) return true;
    try {
      if (!this.#client) {
        const client = await this.#pool.connect();
        client.on("error", () => this.#lost(client));
        this.#client = client;
      }
      // The two-integer key space is separate from the single-key locks that claim steps.
      const { rows } = await this.#client.query<{ held: boolean }>(
        "select pg_try_advisory_lock(hashtext('ingest-graph'), hashtext('daemon')) as held",
      );
      this.#held = rows[0]!.held;
    } catch (error) {
      logger.warn({ err: error }, "leader election failed; trying again");
      if (this.#client) this.#lost(this.#client);
    }
    return this.#held;
  }

  #lost(client: pg.PoolClient): void {
    if (this.#client !== client) return;
    if (this.#held) logger.warn("lost the daemon lock with its connection");
    this.#held = false;
    this.#client = undefined;
    client.release(true);
  }

  async release(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    try {
      if (this.#held) await client.query("select pg_advisory_unlock(hashtext('ingest-graph'), hashtext('daemon'))");
      client.release();
    } catch {
      client.release(true);
    }
    this.#held = false;
  }
}
