import type pg from "pg";

type Cell = string | number | null;

/**
 * Rows into one table in multi-row batches: `insert … select * from unnest($1::text[], …)`, one array per
 * column, so a batch of thousands of rows is one statement with a handful of parameters. One batch is in
 * flight while the next one fills; `add` waits for it before sending another, which bounds memory.
 */
export class TableBatch {
  readonly #pool: pg.Pool;
  readonly #sql: string;
  readonly #size: number;
  #columns: Cell[][];
  #rows = 0;
  #inFlight: Promise<void> = Promise.resolve();
  #failure: { error: unknown } | undefined;
  inserted = 0;

  constructor(pool: pg.Pool, table: string, columns: readonly (readonly [name: string, type: string])[], size = 5000) {
    this.#pool = pool;
    this.#size = size;
    this.#columns = columns.map(() => []);
    const names = columns.map(([name]) => name).join(", ");
    const arrays = columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ");
    this.#sql = `insert into ${table} (${names}) select * from unnest(${arrays})`;
  }

  /** Adds a row; returns a promise (to await) only when a batch had to be sent. */
  add(row: readonly Cell[]): Promise<void> | undefined {
    for (let i = 0; i < this.#columns.length; i++) (this.#columns[i] as Cell[]).push(row[i] ?? null);
    this.#rows++;
    return this.#rows >= this.#size ? this.#send() : undefined;
  }

  async #send(): Promise<void> {
    const params = this.#columns;
    const rows = this.#rows;
    this.#columns = params.map(() => []);
    this.#rows = 0;
    await this.#settled();
    // the rejection is kept, not left unhandled, and thrown by the next add or by end
    this.#inFlight = this.#pool.query(this.#sql, params).then(
      () => {
        this.inserted += rows;
      },
      (error: unknown) => {
        this.#failure = { error };
      },
    );
  }

  async #settled(): Promise<void> {
    await this.#inFlight;
    if (this.#failure) throw this.#failure.error;
  }

  /** Sends what is left and waits for every batch. */
  async end(): Promise<number> {
    if (this.#rows > 0) await this.#send();
    await this.#settled();
    return this.inserted;
  }
}
