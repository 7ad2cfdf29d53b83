import type pg from "pg";
import { canonicalJson } from "../../engine/canonical-json.ts";
import { sha256, type StageCounts } from "./records.ts";
import { type CursorValue, storeCursor } from "./extract-cursor.ts";
import type { KnownFields } from "./schema-drift.ts";

const insertBatchSize = 5_000;

/**
 * One materialisation's records on their way into a staging table: streamed into a temporary table
 * on one connection, then merged in a single transaction, so memory stays flat whatever the volume
 * and a crash leaves the staging table as it was. Got from `Staging.begin`; end it with `finish` or
 * `abort`, either of which gives the connection back.
 *
 * @example
 * ```ts
 * const load = await staging.begin("shop_products", runId);
 * try {
 *   for (const p of products) await load.add(p.sku, p);
 * } catch (error) {
 *   await load.abort();
 *   throw error;
 * }
 * const counts = await load.finish({ complete: true });
 * ```
 */
export class StagingLoad {
  readonly #client: pg.PoolClient;
  readonly #table: string;
  readonly #name: string;
  readonly #runId: string;
  #rows: [number, string, string, string, string | null][] = [];
  #received = 0;

  /** Made by `Staging.begin`, which sets up the temporary table on `client`. */
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
    ).catch((error: unknown) => {
      throw this.#namingDiskFull(error);
    });
  }

  /**
   * Postgres' disk_full (53100) names the file it could not extend by OIDs (`pg_tblspc/16385/PG_15_…/16386/16421`):
   * say which database ran out of space, for which table, and that the load was not kept.
   */
  #namingDiskFull(error: unknown): unknown {
    const { code, message, hint } = error as { code?: unknown; message?: string; hint?: string };
    if (code !== "53100") return error;
    const database = (this.#client as unknown as { database?: string }).database;
    return new Error(
      `the staging database${database ? ` ${database}` : ""} is out of disk space: the load of ${
        this.#received.toLocaleString("en")
      } records into ${this.#table} was rolled back, nothing of it is staged (${message}${hint ? `; ${hint}` : ""})`,
      { cause: error },
    );
  }

  /**
   * Merges what was added: new and changed records get a new version, unchanged ones are left alone,
   * and with `complete` (the load was the source's whole content) staged records it did not contain
   * become tombstones. Tombstones every consumer has read past are purged.
   */
  async finish({ complete, extractCursor, knownFields, within }: {
    /** The load was the source's whole content: staged records it lacks become tombstones. */
    complete: boolean;
    /**
     * More writes to commit with the records, on the load's connection inside its transaction (a stream's
     * position and applied event ids, the batch's dead letters): they commit together or not at all.
     */
    within?: (client: pg.PoolClient) => Promise<void>;
    /**
     * For an incremental source: where its reads got to after this one (recorded in the same transaction
     * as the records, so it moves only when they commit), and whether this read was of the whole source.
     */
    extractCursor?: {
      /** The greatest cursor staged, this read's included (null: none yet). */
      cursor: CursorValue | null;
      /** This read was of the whole source. */
      fullRead: boolean;
      /** The staged asset's code version. */
      codeVersion: string;
      /** What the source was when it was read (see `IncrementalSpec.identity`). */
      sourceIdentity?: string | null;
    };
    /** The fields the source is known to have after this read (schema drift), recorded in the same transaction. */
    knownFields?: {
      /** The fields and their kinds of value. */
      known: KnownFields;
      /** The staged asset's code version that learnt them. */
      codeVersion: string;
    };
  }): Promise<StageCounts> {
    const client = this.#client;
    const t = this.#table;
    try {
      // in the try: a batch the database refuses still gives the connection back (below), or the pool runs dry
      await this.#flush();
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
      if (extractCursor) {
        await client.query(
          `insert into staging.extract_cursors (table_name, cursor, full_read_at, code_version, source_identity)
           values ($1, $2, case when $3 then now() end, $4, $5)
           on conflict (table_name) do update set cursor = excluded.cursor, code_version = excluded.code_version,
             full_read_at = coalesce(excluded.full_read_at, staging.extract_cursors.full_read_at),
             source_identity = excluded.source_identity, updated_at = now()`,
          [
            this.#name,
            extractCursor.cursor === null ? null : JSON.stringify(storeCursor(extractCursor.cursor)),
            extractCursor.fullRead,
            extractCursor.codeVersion,
            extractCursor.sourceIdentity ?? null,
          ],
        );
      }
      if (knownFields) {
        await client.query(
          `insert into staging.source_fields (table_name, fields, code_version) values ($1, $2, $3)
           on conflict (table_name) do update set fields = excluded.fields, code_version = excluded.code_version, updated_at = now()`,
          [this.#name, JSON.stringify(knownFields.known), knownFields.codeVersion],
        );
      }
      await within?.(client);
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
      throw this.#namingDiskFull(error);
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
