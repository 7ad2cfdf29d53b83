import { createHash } from "node:crypto";
import type { MaterializeContext } from "../../engine/asset.ts";
import type { PendingRecord, StagedRecord } from "./records.ts";
import type { Staging } from "./staging.ts";

/** Where a consumer (a node, relationship or collection asset) writes what it reads from a staging table: Neo4j, a Chroma collection. */
export interface StagedSink<T, P = StagedRecord<T>[]> {
  /**
   * The work on a page that needs no store (embedding): it runs while the previous page is being
   * written. Without it, the page's records are written as they are.
   */
  prepare?(records: StagedRecord<T>[]): Promise<P>;
  /**
   * Writes new and changed records. In a full refresh nothing older needs cleaning record by
   * record (the sweep does it at the end); otherwise what a changed record wrote before is replaced.
   * Records that cannot be written yet (a relationship whose end node is not loaded) come back as
   * `pending`: they are tried again on every later materialisation until they are written.
   */
  write(prepared: P, refresh: boolean): Promise<WriteOutcome>;
  /** Deletes what these tombstoned records had written. */
  remove(records: StagedRecord<T>[]): Promise<number>;
  /** At the end of a full refresh: deletes what the asset holds that none of `runs` wrote. */
  sweep(runs: string[]): Promise<number>;
}

export interface WriteOutcome {
  written: number;
  pending?: PendingRecord[];
}

export interface LoadCounts {
  /** New and changed records written to the store. */
  written: number;
  /** Records removed from the store: tombstones, and what a full refresh swept. */
  removed: number;
  /** 1 when this materialisation (re)loaded everything: first load, new code version, or a new staging table. */
  fullRefresh: number;
  /** Records held back by an earlier materialisation and written by this one. */
  resolved: number;
  /** Records still held back after this materialisation (`staging.pending` says why). */
  pending: number;
}

/**
 * Loads what changed in a staging table since this asset last loaded, a page at a time: each page
 * goes to the store, then the asset's load cursor moves past it. So an unchanged record is neither
 * rewritten nor re-embedded, memory holds one page, and a run after a crash goes on from the last
 * page that committed instead of starting over.
 */
export async function loadChanges<T, P = StagedRecord<T>[]>(
  ctx: Pick<MaterializeContext<unknown>, "assetKey" | "runId" | "signal">,
  staging: Staging,
  table: string,
  codeVersion: string,
  pageSize: number,
  sink: StagedSink<T, P>,
): Promise<LoadCounts> {
  const cursor = await staging.openCursor(ctx.assetKey, table, codeVersion, ctx.runId);
  const refresh = cursor.refreshRuns !== null;
  const prepare = sink.prepare ?? (async (records: StagedRecord<T>[]) => records as P);
  let written = 0;
  let removed = 0;
  let resolved = 0;
  // Whether this consumer holds anything back: until it does, pages need no settling.
  let holding = (await staging.pendingCount(ctx.assetKey)) > 0;
  const writeLive = async (
    live: StagedRecord<T>[],
    gone: StagedRecord<T>[],
    prepared: P | undefined,
    retry: boolean,
  ) => {
    if (gone.length > 0) removed += await sink.remove(gone);
    const outcome = prepared === undefined ? { written: 0 } : await sink.write(prepared, refresh && !retry);
    const held = outcome.pending ?? [];
    written += outcome.written;
    if (retry) resolved += live.length - held.length;
    holding ||= held.length > 0;
    if (holding) await staging.settle(cursor, [...live, ...gone].map((r) => r.sourceKey), held);
  };

  // What earlier runs held back first (a refresh reads everything anyway).
  if (!refresh && holding) {
    for await (const page of staging.pending<T>(cursor, pageSize)) {
      ctx.signal.throwIfAborted();
      await writeLive(page, [], await prepare(page), true);
    }
  }

  // The page being written: the next one is read and prepared meanwhile, and written after it.
  let writing: Promise<void> = Promise.resolve();
  try {
    for await (const page of staging.changes<T>(table, cursor.position, pageSize)) {
      ctx.signal.throwIfAborted();
      const live = page.filter((r) => !r.removed);
      const prepared = live.length > 0 ? await prepare(live) : undefined;
      await writing;
      const position = page.at(-1)!.version;
      writing = writeLive(live, page.filter((r) => r.removed), prepared, false).then(() =>
        staging.advance(cursor, position)
      );
      // Observed when awaited above; until then a failure must not count as an unhandled rejection.
      writing.catch(() => {});
    }
    await writing;
  } finally {
    // A failure while preparing must not leave the previous page's write running unobserved.
    await writing.catch(() => {});
  }
  if (cursor.refreshRuns !== null) {
    removed += await sink.sweep(cursor.refreshRuns);
    await staging.endRefresh(cursor);
  }
  const pending = holding ? await staging.pendingCount(ctx.assetKey) : 0;
  return { written, removed, fullRefresh: refresh ? 1 : 0, resolved, pending };
}

/** What a derived asset holds is a function of its input and its code: its data version says so. */
export async function derivedVersion(staging: Staging, table: string, codeVersion: string): Promise<string> {
  return createHash("sha256").update(`${await staging.dataVersion(table)}\n${codeVersion}`).digest("hex").slice(0, 32);
}
