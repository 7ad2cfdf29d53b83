import type { MaterializeContext } from "../../engine/asset.ts";
import { fullRefreshTag } from "../../engine/run-tags.ts";
import type { PendingRecord, StagedRecord } from "./records.ts";
import type { Staging } from "./staging.ts";
import type { Span } from "@opentelemetry/api";
import { withDbSpan, withSpan } from "../../resources/spans.ts";

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
  /**
   * The store it writes, so each page's write, removal and sweep is a span with the database
   * conventions' attributes (`db.system.name`, `db.collection.name`, the batch size, the server).
   */
  store?: {
    /** `neo4j`, `chroma`… */
    system: string;
    /** The label, relationship type or collection. */
    collection: string;
    /** How the store calls a write: `MERGE` (default), `upsert`. */
    write?: string;
    /** The client, whose server the spans name. */
    client?: object;
  };
  /** What `prepare` does (`embed`), for a span of its own per page; without it, preparing is part of the page. */
  prepareName?: string;
}

export interface WriteOutcome {
  written: number;
  /** Records that cannot be written yet (a relationship whose end node is not in the graph). */
  pending?: PendingRecord[];
  /** What changed records had written and no longer have (a relationship whose foreign key became null). */
  removed?: number;
  /** What changed records had written elsewhere: removed, and written where they are now. */
  moved?: number;
}

export interface LoadCounts {
  /** New and changed records written to the store. */
  written: number;
  /**
   * What left the store: what tombstoned records had written, what changed records no longer
   * have, what a full refresh swept, and relationships that went with a deleted end node.
   */
  removed: number;
  /** Changed records whose node key or relationship ends changed: what they wrote before was replaced. */
  moved: number;
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
  ctx: Pick<MaterializeContext<unknown>, "assetKey" | "runId" | "signal" | "runs"> & {
    progress?: MaterializeContext<unknown>["progress"];
  },
  staging: Staging,
  table: string,
  codeVersion: string,
  pageSize: number,
  sink: StagedSink<T, P>,
): Promise<{ counts: LoadCounts; dataVersion: string }> {
  const fullRefresh = (await ctx.runs()).some((run) => run.tags[fullRefreshTag] === "true");
  const cursor = await staging.openCursor(ctx.assetKey, table, codeVersion, ctx.runId, fullRefresh);
  const refresh = cursor.refreshRuns !== null;
  const prepareRecords = sink.prepare ?? (async (records: StagedRecord<T>[]) => records as P);
  const store = sink.store;
  const prepare = (records: StagedRecord<T>[]) =>
    sink.prepareName && store
      ? withSpan(
        `${sink.prepareName} ${store.collection}`,
        { attributes: { "ingest.records": records.length } },
        () => prepareRecords(records),
      )
      : prepareRecords(records);
  const traced = <R>(operation: string, batchSize: number, fn: (span?: Span) => Promise<R>) =>
    store
      ? withDbSpan(
        { system: store.system, operation, collection: store.collection, batchSize, client: store.client },
        fn,
      )
      : fn();
  let written = 0;
  let moved = 0;
  let resolved = 0;
  // Relationships that went with end nodes other assets deleted since this one last loaded.
  let removed = refresh ? 0 : await staging.countDetached(ctx.assetKey);
  // Whether this consumer holds anything back: until it does, pages need no settling.
  let holding = (await staging.pendingCount(ctx.assetKey)) > 0;
  const writeLive = async (
    live: StagedRecord<T>[],
    gone: StagedRecord<T>[],
    prepared: P | undefined,
  ) => {
    if (gone.length > 0) removed += await traced("DELETE", gone.length, () => sink.remove(gone));
    const outcome = prepared === undefined ? { written: 0 } : await traced(
      store?.write ?? "MERGE",
      live.length,
      async (span) => {
        const result = await sink.write(prepared, refresh);
        span?.setAttributes({
          "ingest.records.written": result.written,
          "ingest.records.pending": result.pending?.length ?? 0,
          "ingest.records.moved": result.moved ?? 0,
        });
        return result;
      },
    );
    const held = outcome.pending ?? [];
    written += outcome.written;
    removed += outcome.removed ?? 0;
    moved += outcome.moved ?? 0;
    holding ||= held.length > 0;
    if (!holding) return;
    const settled = await staging.settle(cursor, [...live, ...gone].map((r) => r.sourceKey), held);
    // Held back before, written now (not gone from the source).
    for (const r of live) if (settled.has(r.sourceKey)) resolved += 1;
  };

  // What earlier runs held back first (a refresh reads everything anyway).
  if (!refresh && holding) {
    for await (const page of staging.pending<T>(cursor, pageSize)) {
      ctx.signal.throwIfAborted();
      await writeLive(page, [], await prepare(page));
    }
  }

  // The page being written: the next one is read and prepared meanwhile, and written after it.
  let writing: Promise<void> = Promise.resolve();
  const total = ctx.progress ? await staging.changeCount(table, cursor.position) : 0;
  let done = 0;
  try {
    for await (const page of staging.changes<T>(table, cursor.position, pageSize)) {
      ctx.signal.throwIfAborted();
      const live = page.filter((r) => !r.removed);
      const prepared = live.length > 0 ? await prepare(live) : undefined;
      await writing;
      const position = page.at(-1)!.version;
      writing = writeLive(live, page.filter((r) => r.removed), prepared).then(async () => {
        await staging.advance(cursor, position);
        done += page.length;
        ctx.progress?.(done, total);
      });
      // Observed when awaited above; until then a failure must not count as an unhandled rejection.
      writing.catch(() => {});
    }
    await writing;
  } finally {
    // A failure while preparing must not leave the previous page's write running unobserved.
    await writing.catch(() => {});
  }
  if (cursor.refreshRuns !== null) {
    const runs = cursor.refreshRuns;
    removed += await traced("DELETE", 0, () => sink.sweep(runs));
    await staging.endRefresh(cursor);
  }
  const pending = holding ? await staging.pendingCount(ctx.assetKey) : 0;
  const counts = { written, removed, moved, fullRefresh: refresh ? 1 : 0, resolved, pending };
  // A new data version exactly when what the asset holds changed: downstream is stale only then.
  const dataVersion = await staging.contentVersion(cursor, refresh || written + removed + moved + resolved > 0);
  return { counts, dataVersion };
}
