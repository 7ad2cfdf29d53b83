import { randomUUID } from "node:crypto";
import { Kysely, PostgresDialect } from "kysely";
import type pg from "pg";
import { migrateSchema } from "../../db/migrate.ts";
import { assertIdentifier } from "../identifiers.ts";
import { sameServer } from "../../resources/servers.ts";
import { stagingMigrations } from "./migrations/index.ts";
import type { LoadCursor, PendingRecord, StageCounts, StagedRecord } from "./records.ts";
import { StagingLoad } from "./staging-load.ts";
import { type ExtractCursorState, loadCursor, type StoredCursor } from "./extract-cursor.ts";
import type { KnownFields } from "./schema-drift.ts";

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

/**
 * Postgres staging tables, one per source asset, keyed by source key with a content hash and a
 * version: downstream assets read only what changed since they last loaded (their load cursor), an
 * unchanged record is never rewritten, and a record gone from the source leaves a tombstone. What a
 * `stagingResource()` gives the asset kinds; a custom asset may read a staged table with it too.
 *
 * @example
 * ```ts
 * const staging = new Staging(createPool(settings().databaseUrl));
 * for (const { sourceKey, record } of await staging.read<Product>("shop_products")) console.log(sourceKey, record.name);
 * await staging.close();
 * ```
 */
export class Staging {
  readonly #pool: pg.Pool;
  #schema: Promise<void> | undefined;
  /** Works on `pool`'s database; the staging schema is created or migrated on first use. */
  constructor(pool: pg.Pool) {
    this.#pool = pool;
    sameServer(this, pool);
  }

  /** Ends the pool. */
  close(): Promise<void> {
    return this.#pool.end();
  }

  #table(name: string): string {
    return `staging.${assertIdentifier("staging table", name)}`;
  }

  /** The staging schema's own tables, migrated once per instance (every process may do it at once). */
  #ensureSchema(): Promise<void> {
    this.#schema ??= migrateSchema(
      new Kysely({ dialect: new PostgresDialect({ pool: this.#pool }) }),
      "staging",
      stagingMigrations,
    );
    // A failed migration is tried again by the next call.
    this.#schema.catch(() => (this.#schema = undefined));
    return this.#schema;
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
    // What every load's purge of tombstones reads: without it, each load scanned the whole table.
    await ignoringCreateRace(
      this.#pool.query(`create index if not exists ${name}_tombstones on ${t} (version) where removed`),
    );
    // A table made anew holds nothing: where an earlier one's reads got to no longer applies.
    if (!existed) {
      await this.#pool.query("delete from staging.extract_cursors where table_name = $1", [name]);
      await this.#pool.query("delete from staging.source_fields where table_name = $1", [name]);
    }
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

  /**
   * Where the incremental reads of the source staged in `name` got to: the greatest cursor staged and when
   * the source was last read whole. Undefined before the first read that recorded one.
   */
  async extractCursor(name: string): Promise<ExtractCursorState | undefined> {
    await this.ensureTable(name);
    const { rows } = await this.#pool.query(
      "select cursor, full_read_at, code_version, source_identity from staging.extract_cursors where table_name = $1",
      [name],
    );
    if (rows.length === 0) return undefined;
    return {
      cursor: rows[0].cursor === null ? null : loadCursor(rows[0].cursor as StoredCursor),
      fullReadAt: rows[0].full_read_at,
      codeVersion: rows[0].code_version,
      sourceIdentity: rows[0].source_identity,
    };
  }

  /** The fields the source staged in `name` is known to have, and the code version that learnt them (undefined: none yet). */
  async knownFields(name: string): Promise<{ known: KnownFields; codeVersion: string } | undefined> {
    await this.ensureTable(name);
    const { rows } = await this.#pool.query(
      "select fields, code_version from staging.source_fields where table_name = $1",
      [name],
    );
    return rows[0] && { known: rows[0].fields, codeVersion: rows[0].code_version };
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

  /** The staged records (tombstones aside) of the given source keys, by key. */
  async recordsByKey<T>(name: string, keys: string[]): Promise<Map<string, T>> {
    await this.ensureTable(name);
    const { rows } = await this.#pool.query(
      `select source_key, record from ${this.#table(name)} where not removed and source_key = any($1::text[])`,
      [keys],
    );
    return new Map(rows.map((r) => [r.source_key as string, r.record as T]));
  }

  /** Where the stream staged in `stream` got to, by part (a Kafka partition): what its last batch committed. */
  async streamPositions(stream: string): Promise<Map<string, string>> {
    await this.#ensureSchema();
    const { rows } = await this.#pool.query("select part, position from staging.stream_positions where stream = $1", [
      stream,
    ]);
    return new Map(rows.map((r) => [r.part as string, r.position as string]));
  }

  /** Which of `eventIds` the stream `stream` has applied already (kept by the MD5 of each id, see {@link recordAppliedEvents}). */
  async appliedEvents(stream: string, eventIds: string[]): Promise<Set<string>> {
    await this.#ensureSchema();
    const { rows } = await this.#pool.query(
      `select id from unnest($2::text[]) as id
       where exists (select 1 from staging.stream_events e where e.stream = $1 and e.event_key = md5(id)::uuid)`,
      [stream, eventIds],
    );
    return new Set(rows.map((r) => r.id as string));
  }

  /**
   * Runs `work` holding the stream's consumer lock: one batch of a stream is consumed at a time, whichever
   * worker runs it, so reading its position and staging what follows cannot interleave with another.
   */
  async withStreamLock<T>(stream: string, work: () => Promise<T>): Promise<T> {
    await this.#ensureSchema();
    const client = await this.#pool.connect();
    try {
      await client.query("select pg_advisory_lock(hashtext('ingest-stream'), hashtext($1))", [stream]);
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
    try {
      return await work();
    } finally {
      await client.query("select pg_advisory_unlock(hashtext('ingest-stream'), hashtext($1))", [stream]).then(
        () => client.release(),
        (error: Error) => client.release(error),
      );
    }
  }

  /** How many records are staged in `name` (tombstones aside). */
  async count(name: string): Promise<number> {
    await this.ensureTable(name);
    const { rows } = await this.#pool.query(`select count(*)::bigint as n from ${this.#table(name)} where not removed`);
    return Number(rows[0].n);
  }

  /** Every staged record that is not a tombstone, by source key. Loads them all: for tests and small tables. */
  async read<T>(name: string): Promise<StagedRecord<T>[]> {
    const result = await this.#pool.query(`select * from ${this.#table(name)} where not removed order by source_key`);
    return result.rows.map(stagedRecord<T>);
  }

  /**
   * The staged records (no tombstones) whose timestamp `field`, a UTC ISO string as the models write
   * it, falls in [from, to): what a time-partitioned asset reads for its window. The first read of a
   * field indexes it, so a day of a large table is an index range, not a scan.
   *
   * @example
   * const { start, end } = salesDays.window(ctx.partitionKey!);
   * const orders = await staging.readWindow<Order>("ec_orders", "orderedAt", start, end);
   */
  async readWindow<T>(name: string, field: string, from: Date, to: Date): Promise<StagedRecord<T>[]> {
    await this.ensureTable(name);
    const t = this.#table(name);
    assertIdentifier("record field", field);
    await ignoringCreateRace(
      this.#pool.query(`create index if not exists ${name}__${field} on ${t} ((record->>'${field}'))`),
    );
    const result = await this.#pool.query(
      `select * from ${t} where not removed and record->>'${field}' >= $1 and record->>'${field}' < $2
       order by source_key`,
      [from.toISOString(), to.toISOString()],
    );
    return result.rows.map(stagedRecord<T>);
  }

  /**
   * How many changes (records and tombstones) there are after `position`: what a load of them will
   * go through, for its progress. Counted on the table's version index.
   *
   * @example
   * ```ts
   * const total = await staging.changeCount("ec_orders", cursor.position);
   * ```
   */
  async changeCount(name: string, position: number): Promise<number> {
    const { rows } = await this.#pool.query(
      `select count(*)::bigint as n from ${this.#table(name)} where version > $1`,
      [
        position,
      ],
    );
    return Number(rows[0].n);
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

  /**
   * The table's data version: `v` and the version of its latest change (one sequence for all staging
   * tables, so a table created anew never repeats an old number). It changes exactly when a record
   * is written or removed.
   */
  async dataVersion(name: string): Promise<string> {
    await this.ensureTable(name);
    const row = (await this.#pool.query("select version from staging.tables where name = $1", [name])).rows[0];
    return `v${row.version}`;
  }

  /**
   * A consumer's data version, `v` and a number of the same sequence: a new number when this
   * materialisation `changed` what the consumer holds (or it has none yet), else the one it had.
   */
  async contentVersion(cursor: LoadCursor, changed: boolean): Promise<string> {
    const { rows } = await this.#pool.query(
      `update staging.load_cursors set data_version = case when $2 or data_version is null
         then nextval('staging.record_version') else data_version end
       where consumer = $1 returning data_version`,
      [cursor.consumer, changed],
    );
    return `v${rows[0].data_version}`;
  }

  /**
   * Where `consumer` is in `name`. It starts a full refresh (from the beginning, sweeping what
   * other runs loaded at the end) when the consumer never loaded, its code version changed, or the
   * table was created anew, or the run asks for it (`fullRefresh`, unless this run already began it);
   * a refresh that a crash interrupted is continued by this run.
   */
  async openCursor(
    consumer: string,
    name: string,
    codeVersion: string,
    runId: string,
    fullRefresh = false,
  ): Promise<LoadCursor> {
    await this.ensureTable(name);
    const { generation } =
      (await this.#pool.query("select generation from staging.tables where name = $1", [name])).rows[0];
    const row = (await this.#pool.query("select * from staging.load_cursors where consumer = $1", [consumer])).rows[0];
    const asked = fullRefresh && !(row?.refresh_runs ?? []).includes(runId);
    const current = row && !asked && row.table_name === name && row.generation === generation &&
      row.code_version === codeVersion;
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

  /**
   * Records what became of some records `cursor`'s consumer read: `held` could not be loaded yet
   * (a relationship whose end node is not in the graph) and wait in `staging.pending` with their
   * reason; the other `keys` are settled and leave it. Resolves to the keys that were held back
   * before and are settled now.
   */
  async settle(cursor: LoadCursor, keys: string[], held: PendingRecord[]): Promise<Set<string>> {
    const { rows } = await this.#pool.query(
      `with settled as (
         delete from staging.pending where consumer = $1 and source_key = any($2::text[]) and not source_key = any($3::text[])
         returning source_key),
       still as (
         insert into staging.pending (consumer, source_key, reason)
         select $1, k, r from unnest($3::text[], $4::text[]) as t(k, r)
         on conflict (consumer, source_key) do update set reason = excluded.reason)
       select coalesce(array_agg(source_key), '{}') as settled from settled`,
      [cursor.consumer, keys, held.map((h) => h.sourceKey), held.map((h) => h.reason)],
    );
    return new Set(rows[0].settled as string[]);
  }

  /**
   * Holds back records of other consumers whose relationship went with a node that was deleted (see
   * `removeNodes`): they wait in `staging.pending` like records whose end node never arrived, and
   * their consumer counts them removed when it next materialises.
   */
  async holdDetached(held: { consumer: string; sourceKey: string; reason: string }[]): Promise<void> {
    if (held.length === 0) return;
    await this.#ensureSchema();
    await this.#pool.query(
      `insert into staging.pending (consumer, source_key, reason, detached)
       select distinct on (c, k) c, k, r, true from unnest($1::text[], $2::text[], $3::text[]) as t(c, k, r)
       on conflict (consumer, source_key) do update set reason = excluded.reason, detached = true`,
      [held.map((h) => h.consumer), held.map((h) => h.sourceKey), held.map((h) => h.reason)],
    );
  }

  /** How many of `consumer`'s records lost their relationship with a deleted node since it last counted; counted now. */
  async countDetached(consumer: string): Promise<number> {
    const { rowCount } = await this.#pool.query(
      "update staging.pending set detached = false where consumer = $1 and detached",
      [consumer],
    );
    return rowCount ?? 0;
  }

  /**
   * The current records (tombstones aside) of what `cursor`'s consumer holds back, `batchSize` at a
   * time; those changed since the cursor's position are left for the consumer's read of the changes.
   */
  async *pending<T>(cursor: LoadCursor, batchSize: number): AsyncIterable<StagedRecord<T>[]> {
    for (let after = "";;) {
      const { rows } = await this.#pool.query(
        `select t.* from staging.pending p join ${this.#table(cursor.table)} t on t.source_key = p.source_key
         where p.consumer = $1 and p.source_key > $2 and not t.removed and t.version <= $4
         order by p.source_key limit $3`,
        [cursor.consumer, after, batchSize, cursor.position],
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
    options: {
      /** Only the records of this consumer (an asset key). */
      consumer?: string;
      /** At most this many. */
      limit: number;
    },
  ): Promise<{ consumer: string; sourceKey: string; reason: string; since: Date }[]> {
    await this.#ensureSchema();
    const { rows } = await this.#pool.query(
      'select consumer, source_key as "sourceKey", reason, since from staging.pending where $1::text is null or consumer = $1 order by since, consumer, source_key limit $2',
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

/** A row of a staging table, as pg returns it. */
interface StagingRow {
  source_key: string;
  content_hash: string;
  record: unknown;
  run_id: string;
  version: number;
  removed: boolean;
}

function stagedRecord<T>(row: StagingRow): StagedRecord<T> {
  return {
    sourceKey: row.source_key,
    contentHash: row.content_hash,
    record: row.record as T,
    runId: row.run_id,
    version: row.version,
    removed: row.removed,
  };
}
