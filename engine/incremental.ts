import { createHash } from "node:crypto";
import type { StagedRecord, Staging } from "../resources/staging.ts";
import type { MaterializeContext } from "./asset.ts";

/** Where a consumer writes what it reads from a staging table: Neo4j nodes or relationships, a Chroma collection. */
export interface StagedSink<T> {
  /**
   * Writes new and changed records. In a full refresh nothing older needs cleaning record by
   * record (the sweep does it at the end); otherwise what a changed record wrote before is replaced.
   */
  write(records: StagedRecord<T>[], refresh: boolean): Promise<number>;
  /** Deletes what these tombstoned records had written. */
  remove(records: StagedRecord<T>[]): Promise<number>;
  /** At the end of a full refresh: deletes what the asset holds that none of `runs` wrote. */
  sweep(runs: string[]): Promise<number>;
}

export interface LoadCounts {
  /** New and changed records written to the store. */
  written: number;
  /** Records removed from the store: tombstones, and what a full refresh swept. */
  removed: number;
  /** 1 when this materialisation (re)loaded everything: first load, new code version, or a new staging table. */
  fullRefresh: number;
}

/**
 * Loads what changed in a staging table since this asset last loaded, a page at a time: each page
 * goes to the store, then the asset's load cursor moves past it. So an unchanged record is neither
 * rewritten nor re-embedded, memory holds one page, and a run after a crash goes on from the last
 * page that committed instead of starting over.
 */
export async function loadChanges<T>(
  ctx: Pick<MaterializeContext<unknown>, "assetKey" | "runId" | "signal">,
  staging: Staging,
  table: string,
  codeVersion: string,
  pageSize: number,
  sink: StagedSink<T>,
): Promise<LoadCounts> {
  const cursor = await staging.openCursor(ctx.assetKey, table, codeVersion, ctx.runId);
  const refresh = cursor.refreshRuns !== null;
  let written = 0;
  let removed = 0;
  for await (const page of staging.changes<T>(table, cursor.position, pageSize)) {
    ctx.signal.throwIfAborted();
    const gone = page.filter((r) => r.removed);
    const live = page.filter((r) => !r.removed);
    if (gone.length > 0) removed += await sink.remove(gone);
    if (live.length > 0) written += await sink.write(live, refresh);
    await staging.advance(cursor, page.at(-1)!.version);
  }
  if (cursor.refreshRuns !== null) {
    removed += await sink.sweep(cursor.refreshRuns);
    await staging.endRefresh(cursor);
  }
  return { written, removed, fullRefresh: refresh ? 1 : 0 };
}

/** What a derived asset holds is a function of its input and its code: its data version says so. */
export async function derivedVersion(staging: Staging, table: string, codeVersion: string): Promise<string> {
  return createHash("sha256").update(`${await staging.dataVersion(table)}\n${codeVersion}`).digest("hex").slice(0, 32);
}
