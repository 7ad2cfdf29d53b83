import type { MetadataStore } from "../db/schema.ts";
import type { StepRef } from "./steps.ts";

/**
 * A running materialisation's progress in `ingest.step_progress`, written at most once a second
 * whatever the asset reports, so reporting per record costs nothing; the row goes when it ends. A
 * write that fails is dropped: progress is for people watching, never a reason to fail a run.
 */
export class StepProgress {
  readonly #db: MetadataStore;
  readonly #ref: StepRef;
  readonly #startedAt = new Date();
  #writtenAt = 0;
  #writing: Promise<unknown> = Promise.resolve();

  constructor(db: MetadataStore, ref: StepRef) {
    this.#db = db;
    this.#ref = ref;
  }

  report(done: number, total?: number): void {
    const now = Date.now();
    if (now - this.#writtenAt < 1_000) return;
    this.#writtenAt = now;
    const row = {
      asset_key: this.#ref.assetKey,
      partition_key: this.#ref.partitionKey,
      done,
      total: total ?? null,
      started_at: this.#startedAt,
      updated_at: new Date(now),
    };
    this.#writing = this.#writing.then(() =>
      this.#db.insertInto("ingest.step_progress").values(row)
        .onConflict((oc) =>
          oc.columns(["asset_key", "partition_key"]).doUpdateSet({ done, total: row.total, updated_at: row.updated_at })
        )
        .execute()
    ).catch(() => {});
  }

  async end(): Promise<void> {
    const wrote = this.#writtenAt > 0;
    this.#writtenAt = Number.POSITIVE_INFINITY;
    // Most materialisations report nothing, or finish within a second of starting: no row, no round trip.
    if (!wrote) return;
    await this.#writing;
    await this.#db.deleteFrom("ingest.step_progress").where("asset_key", "=", this.#ref.assetKey)
      .where("partition_key", "=", this.#ref.partitionKey).execute().catch(() => {});
  }
}
