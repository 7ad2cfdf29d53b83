import { camelCased } from "../db/camel-case.ts";
import type { DeadLetter, MetadataStore } from "../db/schema.ts";
import { canonicalJson, storable } from "./canonical-json.ts";

/** A record that could not be loaded, with why and exactly what it was. Nothing is dropped silently. */
export interface DeadLetterInput {
  /** Where the record came from (a staged asset's `source`, a file). */
  source: string;
  /** Its key in the source, when it has one it can be found by. */
  sourceKey?: string;
  /** A short, filterable reason such as `invalid` (failed the model) or `unparseable` (not a record at all). */
  reason: string;
  /** What is wrong: a path into the record (`price`, or `line 17`) and a message each. */
  issues: { path: string; message: string }[];
  /** The record exactly as received (stored as JSON; undefined is stored as null), so it can be replayed. */
  payload: unknown;
}

/** Buffers an asset's dead letters and writes them to the metadata store in batches. */
export class DeadLetterSink {
  readonly #db: MetadataStore;
  readonly #context: { runId: string; assetKey: string; partitionKey: string };
  #buffer: DeadLetterInput[] = [];
  #count = 0;
  #firstId: number | undefined;

  constructor(db: MetadataStore, context: { runId: string; assetKey: string; partitionKey: string }) {
    this.#db = db;
    this.#context = context;
  }

  get count(): number {
    return this.#count;
  }

  async add(letter: DeadLetterInput): Promise<void> {
    this.#buffer.push(letter);
    this.#count += 1;
    if (this.#buffer.length >= 1_000) await this.flush();
  }

  async flush(): Promise<void> {
    const insert = this.#takeBuffered();
    if (!insert) return;
    const inserted = await insert.execute();
    this.#firstId ??= Number(inserted[0]!.id);
  }

  /**
   * Writes what is buffered on `client`, a connection to the same database inside a transaction of the
   * caller's: dead letters that must commit with the records they were read with (a stream's batch, whose
   * position moves in that transaction), or not at all.
   */
  async flushOn(
    client: { query(text: string, values: readonly unknown[]): Promise<{ rows: unknown[] }> },
  ): Promise<void> {
    const insert = this.#takeBuffered();
    if (!insert) return;
    const compiled = insert.compile();
    const { rows } = await client.query(compiled.sql, compiled.parameters);
    this.#firstId ??= Number((rows[0] as { id: string }).id);
  }

  #takeBuffered() {
    if (this.#buffer.length === 0) return undefined;
    const batch = this.#buffer;
    this.#buffer = [];
    return this.#db
      .insertInto("ingest.dead_letters")
      .values(
        batch.map((d) => ({
          run_id: this.#context.runId,
          asset_key: this.#context.assetKey,
          partition_key: this.#context.partitionKey,
          source: d.source,
          // a key read from a bad record may hold a NUL, which no Postgres text can
          source_key: d.sourceKey === undefined ? null : storable(d.sourceKey),
          reason: d.reason,
          issues: canonicalJson(d.issues),
          payload: canonicalJson(d.payload ?? null),
          replayed_at: null,
        })),
      )
      .returning("id");
  }

  /**
   * Marks the open dead letters of earlier runs of this asset partition superseded: this successful
   * materialisation read the source again, and its own dead letters are what is bad now.
   */
  async supersedeEarlier(): Promise<void> {
    await this.#db
      .updateTable("ingest.dead_letters")
      .set({ status: "superseded" })
      .where("asset_key", "=", this.#context.assetKey)
      .where("partition_key", "=", this.#context.partitionKey)
      .where("run_id", "<>", this.#context.runId)
      .where("status", "=", "open")
      .execute();
  }

  /** Removes what this attempt wrote: a failed attempt is retried from the start, and would write them again. */
  async discard(): Promise<void> {
    this.#buffer = [];
    this.#count = 0;
    if (this.#firstId === undefined) return;
    await this.#db
      .deleteFrom("ingest.dead_letters")
      .where("run_id", "=", this.#context.runId)
      .where("asset_key", "=", this.#context.assetKey)
      .where("partition_key", "=", this.#context.partitionKey)
      .where("id", ">=", this.#firstId)
      .execute();
    this.#firstId = undefined;
  }
}

export interface DeadLetterFilter {
  assetKey?: string;
  runId?: string;
  reason?: string;
  /** Default: only open ones. */
  status?: "open" | "replayed" | "superseded" | "all";
  limit?: number;
}

export async function listDeadLetters(db: MetadataStore, filter: DeadLetterFilter = {}): Promise<DeadLetter[]> {
  let query = db.selectFrom("ingest.dead_letters").selectAll().orderBy("id");
  if (filter.assetKey) query = query.where("asset_key", "=", filter.assetKey);
  if (filter.runId) query = query.where("run_id", "=", filter.runId);
  if (filter.reason) query = query.where("reason", "=", filter.reason);
  const status = filter.status ?? "open";
  if (status !== "all") query = query.where("status", "=", status);
  if (filter.limit) query = query.limit(filter.limit);
  return (await query.execute()).map(camelCased);
}

/** Counts of open dead letters by asset and reason. */
export async function deadLetterCounts(
  db: MetadataStore,
  runId?: string,
): Promise<{ assetKey: string; reason: string; count: number }[]> {
  let query = db
    .selectFrom("ingest.dead_letters")
    .select(["asset_key", "reason", (eb) => eb.fn.countAll<number>().as("count")])
    .where("status", "=", "open")
    .groupBy(["asset_key", "reason"])
    .orderBy("asset_key")
    .orderBy("reason");
  if (runId) query = query.where("run_id", "=", runId);
  return (await query.execute()).map((r) => ({ assetKey: r.asset_key, reason: r.reason, count: Number(r.count) }));
}

export async function markReplayed(db: MetadataStore, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable("ingest.dead_letters").set({ status: "replayed", replayed_at: new Date() }).where(
    "id",
    "in",
    ids,
  ).execute();
}

/** A dead letter that still fails after a replay keeps its row, with the issues of the current model. */
export async function updateIssues(db: MetadataStore, id: number, issues: DeadLetterInput["issues"]): Promise<void> {
  await db.updateTable("ingest.dead_letters").set({ issues: JSON.stringify(issues) }).where("id", "=", id).execute();
}
