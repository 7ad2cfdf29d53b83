import { createHash } from "node:crypto";
import type pg from "pg";
import { assertIdentifier } from "./identifiers.ts";

/**
 * A JSON encoding with sorted keys, so equal records hash equally whatever their key order. NUL
 * characters, which no Postgres text or jsonb value can hold, become U+FFFD (visibly replaced, not lost).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === "string") return v.replaceAll("\u0000", "\uFFFD");
    return v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v;
  });
}

/** `CREATE … IF NOT EXISTS` run by two sessions at once can still fail on the catalog's unique index: the object exists then. */
async function ignoringCreateRace(query: Promise<unknown>): Promise<void> {
  try {
    await query;
  } catch (error) {
    if ((error as { code?: string }).code !== "23505") throw error;
  }
}

export const contentHash = (record: unknown) => createHash("sha256").update(canonicalJson(record)).digest("hex");

export interface StagedRecord<T> {
  sourceKey: string;
  contentHash: string;
  record: T;
  runId: string;
}

export interface StageCounts {
  /** New or changed records. */
  written: number;
  /** Records whose content hash had not changed: left as they were. */
  unchanged: number;
}

/**
 * Postgres staging tables, one per source asset, keyed by source key with a content hash: downstream
 * assets read from here, and an unchanged record is never rewritten.
 */
export class Staging {
  readonly #pool: pg.Pool;
  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  close(): Promise<void> {
    return this.#pool.end();
  }

  #table(name: string): string {
    return `staging.${assertIdentifier("staging table", name)}`;
  }

  async ensureTable(name: string): Promise<void> {
    await ignoringCreateRace(this.#pool.query("create schema if not exists staging"));
    await ignoringCreateRace(this.#pool.query(`create table if not exists ${this.#table(name)} (
      source_key text primary key,
      content_hash text not null,
      record jsonb not null,
      run_id text not null,
      staged_at timestamptz not null default now())`));
  }

  async stage<T>(name: string, records: { sourceKey: string; record: T }[], runId: string, batchSize = 2_000): Promise<StageCounts> {
    await this.ensureTable(name);
    let written = 0;
    for (let start = 0; start < records.length; start += batchSize) {
      const batch = records.slice(start, start + batchSize);
      const result = await this.#pool.query(
        `insert into ${this.#table(name)} (source_key, content_hash, record, run_id)
         select * from unnest($1::text[], $2::text[], $3::jsonb[], $4::text[])
         on conflict (source_key) do update
           set content_hash = excluded.content_hash, record = excluded.record, run_id = excluded.run_id, staged_at = now()
           where ${this.#table(name)}.content_hash <> excluded.content_hash`,
        [
          batch.map((r) => r.sourceKey),
          batch.map((r) => contentHash(r.record)),
          batch.map((r) => canonicalJson(r.record)),
          batch.map(() => runId),
        ],
      );
      written += result.rowCount ?? 0;
    }
    return { written, unchanged: records.length - written };
  }

  /** Removes the records whose source keys are not among `keep`: they are gone from the source. */
  async removeMissing(name: string, keep: string[]): Promise<number> {
    await this.ensureTable(name);
    const result = await this.#pool.query(`delete from ${this.#table(name)} where not (source_key = any($1::text[]))`, [keep]);
    return result.rowCount ?? 0;
  }

  async read<T>(name: string): Promise<StagedRecord<T>[]> {
    const result = await this.#pool.query(
      `select source_key, content_hash, record, run_id from ${this.#table(name)} order by source_key`,
    );
    return result.rows.map((r) => ({ sourceKey: r.source_key, contentHash: r.content_hash, record: r.record as T, runId: r.run_id }));
  }

  /** A hash of every (source key, content hash) pair: the staged table's data version. */
  async dataVersion(name: string): Promise<string> {
    const result = await this.#pool.query(
      `select coalesce(md5(string_agg(source_key || ':' || content_hash, ',' order by source_key)), 'empty') as v from ${this.#table(name)}`,
    );
    return result.rows[0].v as string;
  }
}
