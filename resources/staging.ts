import { createHash, randomUUID } from "node:crypto";
import type pg from "pg";
import { assertIdentifier } from "./identifiers.ts";

/**
 * A JSON encoding with sorted keys, so equal records hash equally whatever their key order. NUL
 * characters, which no Postgres text or jsonb value can hold, become U+FFFD (visibly replaced, not lost).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === "string") return v.replaceAll("\u0000", "\uFFFD");
    return v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v;
  });
}

/**
 * `CREATE … IF NOT EXISTS` run by two sessions at once can still fail, on the catalog's unique index
 * (23505) or as a duplicate table or type (42P07, 42710): the object exists then.
 */
async function ignoringCreateRace(query: Promise<unknown>): Promise<void> {
  try {
    await query;
  } catch (error) {
    if (!["23505", "42P07", "42710"].includes((error as { code?: string }).code ?? "")) throw error;
  }
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

export const contentHash = (record: unknown) => sha256(canonicalJson(record));

export interface StagedRecord<T> {
  sourceKey: string;
  contentHash: string;
  record: T;
  /** The run that last changed this record. */
  runId: string;
  /**
   * Increases every time the record is written or removed (one sequence for all staging tables):
   * a consumer that has read up to a version has seen every change before it.
   */
  version: number;
  /** A tombstone: the record is gone from the source, and what was loaded from it must go too. */
  removed: boolean;
}

export interface StageCounts {
  /** Records received, duplicates included. */
  received: number;
  /** Received records whose source key came again later: only the latest of each key is staged. */
  deduplicated: number;
  /** New or changed records. */
  written: number;
  /** Records whose content hash had not changed: left as they were. */
  unchanged: number;
  /** Records no longer in the source, turned into tombstones (only when the load was the whole source). */
  removed: number;
}

/** A record a consumer read but could not load yet, and why: it is tried again on every materialisation. */
export interface PendingRecord {
  sourceKey: string;
  reason: string;
}

/** Where a consumer (a node, relationship or collection asset) is in reading a staging table. */
export interface LoadCursor {
  consumer: string;
  table: string;
  /** Every change up to this version has been loaded. */
  position: number;
  /**
   * Set while a full refresh is under way: the runs that have loaded parts of it. When it ends, what
   * the consumer holds from any other run is no longer staged and is removed.
   */
  refreshRuns: string[] | null;
}

const insertBatchSize = 5_000;

/**
 * One materialisation's records on their way into a staging table: streamed into a temporary table
 * on one connection, then merged in a single transaction, so memory stays flat whatever the volume
 * and a crash leaves the staging table as it was.
 */
export class StagingLoad {
  readonly #client: pg.PoolClient;
  readonly #table: string;
  readonly #name: string;
  readonly #runId: string;
  #rows: [number, string, string, string, string | null][] = [];
  #received = 0;

  constructor(client: pg.PoolClient, name: string, table: string, runId: string) {
    this.#client = client;
    this.#name = name;
    this.#table = table;
    this.#runId = runId;
  }

  /** Adds one validated record; of several with one source key, the one with the latest `updatedAt` (then the last added) wins. */
  async add(sourceKey: string, record: unknown, updatedAt?: string): Promise<void> {
    const json = canonicalJson(record);
    this.#rows.push([this.#received, sourceKey, sha256(json), json, updatedAt ?? null]);
    this.#received += 1;
    if (this.#rows.length >= insertBatchSize) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#rows.length === 0) return;
    const rows = this.#rows;
    this.#rows = [];
    await this.#client.query(
      `insert into pg_temp.staging_incoming (seq, source_key, content_hash, record, updated_at)
       select * from unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[], $5::text[])`,
      [
        rows.map((r) => r[0]),
        rows.map((r) => r[1]),
        rows.map((r) => r[2]),
        rows.map((r) => r[3]),
        rows.map((r) => r[4]),
      ],
    );
  }

  /**
   * Merges what was added: new and changed records get a new version, unchanged ones are left alone,
   * and with `complete` (the load was the source's whole content) staged records it did not contain
   * become tombstones. Tombstones every consumer has read past are purged.
   */
  async finish({ complete }: { complete: boolean }): Promise<StageCounts> {
    await this.#flush();
    const client = this.#client;
    const t = this.#table;
    try {
      await client.query("begin");
      // One merge at a time per table: versions must become visible in increasing order.
      await client.query("select pg_advisory_xact_lock(hashtext($1))", [t]);
      await client.query(`create temp table staging_latest on commit drop as
        select distinct on (source_key) source_key, content_hash, record from pg_temp.staging_incoming
        order by source_key, updated_at collate "C" desc nulls last, seq desc`);
      await client.query("analyze pg_temp.staging_latest");
      const distinct = (await client.query("select count(*)::int as n from pg_temp.staging_latest")).rows[0]
        .n as number;
      const written = await client.query(
        `with written as (
           insert into ${t} as t (source_key, content_hash, record, run_id, version, removed, staged_at)
           select source_key, content_hash, record, $1, nextval('staging.record_version'), false, now() from pg_temp.staging_latest
           on conflict (source_key) do update
             set content_hash = excluded.content_hash, record = excluded.record, run_id = excluded.run_id,
                 version = excluded.version, removed = false, staged_at = now()
             where t.content_hash <> excluded.content_hash or t.removed
           returning version)
         select count(*)::int as n, max(version) as top from written`,
        [this.#runId],
      );
      const removed = complete
        ? await client.query(
          `with removed as (
               update ${t} as t set removed = true, version = nextval('staging.record_version'), run_id = $1, staged_at = now()
               where not t.removed and not exists (select 1 from pg_temp.staging_latest l where l.source_key = t.source_key)
               returning version)
             select count(*)::int as n, max(version) as top from removed`,
          [this.#runId],
        )
        : { rows: [{ n: 0, top: null }] };
      const top = Math.max(written.rows[0].top ?? 0, removed.rows[0].top ?? 0);
      if (top > 0) {
        await client.query(
          "update staging.tables set version = greatest(version, $2), updated_at = now() where name = $1",
          [this.#name, top],
        );
      }
      await client.query(
        `delete from ${t} where removed and version <= (
           select coalesce(min(c.position), 0) from staging.load_cursors c join staging.tables s on s.name = c.table_name and s.generation = c.generation
           where c.table_name = $1)`,
        [this.#name],
      );
      await client.query("commit");
      return {
        received: this.#received,
        deduplicated: this.#received - distinct,
        written: written.rows[0].n,
        unchanged: distinct - written.rows[0].n,
        removed: removed.rows[0].n,
      };
    } catch (error) {
      await client.query("rollback").catch(() => {});
      throw error;
    } finally {
      await this.#release();
    }
  }

  /** Gives up the load: nothing of it reaches the staging table. */
  abort(): Promise<void> {
    return this.#release();
  }

  async #release(): Promise<void> {
    try {
      await this.#client.query("drop table if exists pg_temp.staging_incoming");
      this.#client.release();
    } catch (error) {
      this.#client.release(error as Error);
    }
  }
}

/**
 * Postgres staging tables, one per source asset, keyed by source key with a content hash and a
 * version: downstream assets read only what changed since they last loaded (their load cursor), an
 * unchanged record is never rewritten, and a record gone from the source leaves a tombstone.
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

  async #ensureSchema(): Promise<void> {
    await ignoringCreateRace(this.#pool.query("create schema if not exists staging"));
    await ignoringCreateRace(this.#pool.query("create sequence if not exists staging.record_version"));
    await ignoringCreateRace(this.#pool.query(`create table if not exists staging.tables (
      name text primary key,
      generation uuid not null,
      version bigint not null default 0,
      updated_at timestamptz not null default now())`));
    await ignoringCreateRace(this.#pool.query(`create table if not exists staging.load_cursors (
      consumer text primary key,
      table_name text not null,
      generation uuid not null,
      code_version text not null,
      position bigint not null,
      refresh_runs text[],
      updated_at timestamptz not null default now())`));
    await ignoringCreateRace(this.#pool.query(`create table if not exists staging.pending (
      consumer text not null,
      source_key text not null,
      reason text not null,
      since timestamptz not null default now(),
      primary key (consumer, source_key))`));
  }

  /**
   * Creates the table when missing. A table created anew gets a new generation, so consumers that
   * loaded from an earlier one start over with a full refresh.
   */
  async ensureTable(name: string): Promise<void> {
    await this.#ensureSchema();
    const t = this.#table(name);
    const { existed, current } = (
      await this.#pool.query(
        `select to_regclass($1) is not null as existed,
           exists (select 1 from information_schema.columns where table_schema = 'staging' and table_name = $2 and column_name = 'removed') as current`,
        [t, name],
      )
    ).rows[0];
    if (existed && !current) {
      // A table staged before versions and tombstones existed: give every record a version.
      await this.#pool.query(
        `alter table ${t} add column if not exists version bigint not null default nextval('staging.record_version'),
        add column if not exists removed boolean not null default false`,
      );
    }
    await ignoringCreateRace(this.#pool.query(`create table if not exists ${t} (
      source_key text primary key,
      content_hash text not null,
      record jsonb not null,
      run_id text not null,
      version bigint not null default nextval('staging.record_version'),
      removed boolean not null default false,
      staged_at timestamptz not null default now())`));
    await ignoringCreateRace(this.#pool.query(`create index if not exists ${name}_version on ${t} (version)`));
    await this.#pool.query(
      `insert into staging.tables (name, generation) values ($1, $2)
       on conflict (name) do update set generation = case when $3 then staging.tables.generation else excluded.generation end`,
      [name, randomUUID(), existed],
    );
  }

  /** Starts streaming one materialisation's records into a staging table; see {@link StagingLoad}. */
  async begin(name: string, runId: string): Promise<StagingLoad> {
    await this.ensureTable(name);
    const client = await this.#pool.connect();
    try {
      await client.query("drop table if exists pg_temp.staging_incoming");
      await client.query(`create temp table staging_incoming (
        seq bigint not null, source_key text not null, content_hash text not null, record jsonb not null, updated_at text)`);
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    return new StagingLoad(client, name, this.#table(name), runId);
  }

  /** Stages some records (not the source's whole content: nothing is removed), as a dead-letter replay does. */
  async stage<T>(name: string, records: { sourceKey: string; record: T }[], runId: string): Promise<StageCounts> {
    const load = await this.begin(name, runId);
    try {
      for (const r of records) await load.add(r.sourceKey, r.record);
    } catch (error) {
      await load.abort();
      throw error;
    }
    return load.finish({ complete: false });
  }

  /** Every staged record that is not a tombstone, by source key. Loads them all: for tests and small tables. */
  async read<T>(name: string): Promise<StagedRecord<T>[]> {
    const result = await this.#pool.query(`select * from ${this.#table(name)} where not removed order by source_key`);
    return result.rows.map(stagedRecord<T>);
  }

  /** The changes (records and tombstones) after `position`, in version order, `batchSize` at a time; the next page is read while the caller works on one. */
  async *changes<T>(name: string, position: number, batchSize: number): AsyncIterable<StagedRecord<T>[]> {
    const page = (after: number) =>
      this.#pool.query(`select * from ${this.#table(name)} where version > $1 order by version limit $2`, [
        after,
        batchSize,
      ]).then((r) => r.rows.map(stagedRecord<T>));
    let next = page(position);
    for (;;) {
      const rows = await next;
      if (rows.length === 0) return;
      next = rows.length < batchSize ? Promise.resolve([]) : page(rows.at(-1)!.version);
      // A consumer that stops early (it failed) must not leave the prefetch's error unhandled.
      next.catch(() => {});
      yield rows;
    }
  }

  /** The table's data version: it changes exactly when a record is written or removed. */
  async dataVersion(name: string): Promise<string> {
    await this.ensureTable(name);
    const row =
      (await this.#pool.query("select generation, version from staging.tables where name = $1", [name])).rows[0];
    return `${row.generation}:${row.version}`;
  }

  /**
   * Where `consumer` is in `name`. It starts a full refresh (from the beginning, sweeping what
   * other runs loaded at the end) when the consumer never loaded, its code version changed, or the
   * table was created anew; a refresh that a crash interrupted is continued by this run.
   */
  async openCursor(consumer: string, name: string, codeVersion: string, runId: string): Promise<LoadCursor> {
    await this.ensureTable(name);
    const { generation } =
      (await this.#pool.query("select generation from staging.tables where name = $1", [name])).rows[0];
    const row = (await this.#pool.query("select * from staging.load_cursors where consumer = $1", [consumer])).rows[0];
    const current = row && row.table_name === name && row.generation === generation && row.code_version === codeVersion;
    const cursor: LoadCursor = current
      ? {
        consumer,
        table: name,
        position: row.position,
        refreshRuns: row.refresh_runs === null ? null : [...new Set([...row.refresh_runs, runId])],
      }
      : { consumer, table: name, position: 0, refreshRuns: [runId] };
    // A refresh from the start reads every record again, the held-back ones too.
    if (!current) await this.#pool.query("delete from staging.pending where consumer = $1", [consumer]);
    await this.#pool.query(
      `insert into staging.load_cursors (consumer, table_name, generation, code_version, position, refresh_runs) values ($1, $2, $3, $4, $5, $6)
       on conflict (consumer) do update set table_name = excluded.table_name, generation = excluded.generation, code_version = excluded.code_version,
         position = excluded.position, refresh_runs = excluded.refresh_runs, updated_at = now()`,
      [consumer, name, generation, codeVersion, cursor.position, cursor.refreshRuns],
    );
    return cursor;
  }

  /** Records that every change up to `position` has been loaded (after the stores committed it). */
  async advance(cursor: LoadCursor, position: number): Promise<void> {
    await this.#pool.query("update staging.load_cursors set position = $2, updated_at = now() where consumer = $1", [
      cursor.consumer,
      position,
    ]);
    cursor.position = position;
  }

  /** Ends a full refresh (after the consumer swept what other runs loaded). */
  async endRefresh(cursor: LoadCursor): Promise<void> {
    await this.#pool.query(
      "update staging.load_cursors set refresh_runs = null, updated_at = now() where consumer = $1",
      [cursor.consumer],
    );
    cursor.refreshRuns = null;
  }

  /** Forgets where these consumers are, so their next materialisation is a full refresh (`ingest materialize --full-refresh`). */
  async resetCursors(consumers: string[]): Promise<void> {
    await this.#ensureSchema();
    await this.#pool.query("delete from staging.load_cursors where consumer = any($1::text[])", [consumers]);
    await this.#pool.query("delete from staging.pending where consumer = any($1::text[])", [consumers]);
  }

  /**
   * Records what became of some records `cursor`'s consumer read: `held` could not be loaded yet
   * (a relationship whose end node is not in the graph) and wait in `staging.pending` with their
   * reason; the other `keys` are settled and leave it.
   */
  async settle(cursor: LoadCursor, keys: string[], held: PendingRecord[]): Promise<void> {
    await this.#pool.query(
      `with settled as (
         delete from staging.pending where consumer = $1 and source_key = any($2::text[]) and not source_key = any($3::text[]))
       insert into staging.pending (consumer, source_key, reason)
       select $1, k, r from unnest($3::text[], $4::text[]) as t(k, r)
       on conflict (consumer, source_key) do update set reason = excluded.reason`,
      [cursor.consumer, keys, held.map((h) => h.sourceKey), held.map((h) => h.reason)],
    );
  }

  /** The current records (tombstones aside) of what `cursor`'s consumer holds back, `batchSize` at a time. */
  async *pending<T>(cursor: LoadCursor, batchSize: number): AsyncIterable<StagedRecord<T>[]> {
    for (let after = "";;) {
      const { rows } = await this.#pool.query(
        `select t.* from staging.pending p join ${this.#table(cursor.table)} t on t.source_key = p.source_key
         where p.consumer = $1 and p.source_key > $2 and not t.removed order by p.source_key limit $3`,
        [cursor.consumer, after, batchSize],
      );
      if (rows.length === 0) return;
      after = rows.at(-1).source_key;
      yield rows.map(stagedRecord<T>);
    }
  }

  /** What is held back, by consumer and reason. */
  async pendingSummary(): Promise<{ consumer: string; reason: string; count: number; since: Date }[]> {
    await this.#ensureSchema();
    const { rows } = await this.#pool.query(
      "select consumer, reason, count(*)::int as count, min(since) as since from staging.pending group by 1, 2 order by 1, 3 desc, 2",
    );
    return rows;
  }

  /** The records held back (by one consumer, when given), oldest first. */
  async listPending(
    options: { consumer?: string; limit: number },
  ): Promise<{ consumer: string; source_key: string; reason: string; since: Date }[]> {
    await this.#ensureSchema();
    const { rows } = await this.#pool.query(
      "select consumer, source_key, reason, since from staging.pending where $1::text is null or consumer = $1 order by since, consumer, source_key limit $2",
      [options.consumer ?? null, options.limit],
    );
    return rows;
  }

  /** How many records `consumer` holds back. */
  async pendingCount(consumer: string): Promise<number> {
    return Number(
      (await this.#pool.query("select count(*) from staging.pending where consumer = $1", [consumer])).rows[0].count,
    );
  }
}

function stagedRecord<T>(row: Record<string, any>): StagedRecord<T> {
  return {
    sourceKey: row.source_key,
    contentHash: row.content_hash,
    record: row.record as T,
    runId: row.run_id,
    version: row.version,
    removed: row.removed,
  };
}
