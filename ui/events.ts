import type { pg } from "../resources/postgres.ts";
import { logger } from "../resources/logger.ts";

/** What changed, as the tables migration 0009's triggers name: `runs`, `run_steps`, `materializations`… */
export type ChangeListener = (tables: string[]) => void;

/**
 * Listens on Postgres' channel `ingest_ui` (migration 0009 notifies it when runs, steps, materialisations,
 * dead letters, ticks, incidents or workers change) on a connection of its own, and passes what changed
 * on to every listener at most every `coalesceMs`: a run that ends a hundred steps in a second is a few
 * messages, not hundreds. A lost connection is opened again; meanwhile the browsers poll.
 */
export class ChangeFeed {
  readonly #pool: pg.Pool;
  readonly #coalesceMs: number;
  readonly #listeners = new Set<ChangeListener>();
  #pending = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #client: pg.PoolClient | undefined;
  #closed = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** Whether the feed listens now; the browsers poll while it does not. */
  connected = false;

  constructor(pool: pg.Pool, coalesceMs = 200) {
    this.#pool = pool;
    this.#coalesceMs = coalesceMs;
  }

  async start(): Promise<void> {
    if (this.#closed) return;
    try {
      const client = await this.#pool.connect();
      client.on("notification", (message) => this.#changed(message.payload ?? "unknown"));
      client.on("error", (error) => this.#lost(client, error));
      await client.query("listen ingest_ui");
      this.#client = client;
      this.connected = true;
    } catch (error) {
      this.#lost(undefined, error);
    }
  }

  #lost(client: pg.PoolClient | undefined, error: unknown): void {
    if (client && this.#client !== client) return;
    this.connected = false;
    this.#client = undefined;
    client?.release(true);
    if (this.#closed) return;
    logger.warn({ err: error }, "ui: lost the change feed; browsers poll until it is back");
    this.#retry = setTimeout(() => void this.start(), 2_000);
    this.#retry.unref?.();
  }

  #changed(table: string): void {
    this.#pending.add(table);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      const tables = [...this.#pending];
      this.#pending = new Set();
      for (const listener of this.#listeners) listener(tables);
    }, this.#coalesceMs);
  }

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#retry);
    this.#listeners.clear();
    const client = this.#client;
    this.#client = undefined;
    this.connected = false;
    if (client) {
      await client.query("unlisten ingest_ui").catch(() => {});
      client.release();
    }
  }
}
