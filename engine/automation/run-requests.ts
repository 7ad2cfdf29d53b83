import { randomUUID } from "node:crypto";
import { sql, type Transaction } from "kysely";
import type { MetadataDatabase, MetadataStore } from "../../db/schema.ts";
import { ROOT_CONTEXT } from "@opentelemetry/api";
import { logger } from "../../resources/logger.ts";
import { metrics } from "../../resources/metrics.ts";
import { traceparentOf, withSpan } from "../../resources/spans.ts";
import type { AssetGraph } from "../asset-graph.ts";
import { requestRun } from "../runs.ts";
import type { TickRecord } from "./ticks.ts";
import { unreachableStore } from "../../resources/connection-errors.ts";

/** A run as a tick asks for it, kept as JSON until the run exists. */
export interface StoredRequest {
  selection: string;
  keys: string[];
  staleOnly?: boolean;
  partitions?: string[];
  /** The instant time partitions are counted up to (ISO): a schedule's tick. */
  now?: string;
  tags: Record<string, string>;
  /** The span of the tick that asked for it: the run's trace links to it. */
  tickTraceparent?: string;
}

export interface TickWithRuns extends TickRecord {
  /** Schedules: the scheduled instant; a second insert of the same key records nothing. */
  tickKey?: string;
  /** The runs to request; a run id given here (to record it elsewhere in the same transaction) is used, else one is made. */
  requests: (StoredRequest & { runId?: string })[];
}

/**
 * Records a tick and the runs it requests, in the caller's transaction (with the cursor it advances),
 * before any run exists: each request gets its run id now, and `submitRunRequests` creates the run
 * under that id. A daemon that dies in between leaves the request pending; whoever submits it next
 * creates the same run, and a second creation fails on the run's primary key. So a tick's run is
 * made exactly once. Returns the run ids, or undefined when the tick was already recorded.
 */
export async function recordTick(
  tx: Transaction<MetadataDatabase>,
  tick: TickWithRuns,
  daemon: string,
): Promise<string[] | undefined> {
  const runIds = tick.requests.map((r) => r.runId ?? randomUUID());
  // A tick that requests runs is a span of its own (a trace of its own); each run's trace links to it.
  const tickTraceparent = runIds.length > 0 ? tickSpan(tick, runIds) : undefined;
  const row = await tx
    .insertInto("ingest.ticks")
    .values({
      instigator: tick.instigator,
      kind: tick.kind,
      tick_key: tick.tickKey ?? null,
      tick_time: tick.tickTime,
      last_tick_time: tick.tickTime,
      status: tick.status,
      reason: tick.reason,
      run_ids: runIds,
      cursor: tick.cursor === undefined ? null : JSON.stringify(tick.cursor),
      daemon,
    })
    .onConflict((oc) => oc.columns(["instigator", "tick_key"]).where("tick_key", "is not", null).doNothing())
    .returning("id")
    .executeTakeFirst();
  if (!row) return undefined;
  metrics.ticks.inc({ instigator: tick.instigator, status: tick.status });
  if (runIds.length === 0) return runIds;
  await tx
    .insertInto("ingest.run_requests")
    .values(
      tick.requests.map(({ runId: _, ...request }, i) => ({
        run_id: runIds[i]!,
        tick_id: row.id,
        instigator: tick.instigator,
        request: JSON.stringify({
          ...request,
          tickTraceparent,
          tags: { ...request.tags, "ingest/instigator": tick.instigator, "ingest/tick": String(row.id) },
        }),
        status: "pending" as const,
        error: null,
        requested_at: null,
      })),
    )
    .execute();
  return runIds;
}

const isDuplicateRun = (error: unknown) => {
  const e = error as { code?: string; constraint?: string };
  return e.code === "23505" && e.constraint === "runs_pkey";
};

/**
 * The database could not take the run: its connection ended (a restart, a proxy's timeout, a terminated
 * backend) or it cannot be reached. That is no fault of the request: failing it would lose the tick's run
 * for good.
 */
const databaseUnreachable = (error: unknown): boolean => unreachableStore(error) !== undefined;

/**
 * Creates the runs of pending requests (those named, or every pending one): idempotent, so two
 * daemons, or a daemon and its crashed predecessor's leftovers, never make a run twice. A request the
 * runs cannot be made of fails (its tick says why); one the database could not take stays pending and
 * the error is thrown, for whoever submits next.
 */
export async function submitRunRequests(db: MetadataStore, graph: AssetGraph, runIds?: string[]): Promise<number> {
  if (runIds?.length === 0) return 0;
  let query = db.selectFrom("ingest.run_requests").select(["run_id", "tick_id", "instigator", "request"]).where(
    "status",
    "=",
    "pending",
  ).orderBy("created_at").limit(500);
  if (runIds) query = query.where("run_id", "in", runIds);
  const pending = await query.execute();
  for (const { run_id: runId, tick_id: tickId, instigator, request } of pending) {
    const stored = request as unknown as StoredRequest;
    try {
      const { tickTraceparent, ...rest } = stored;
      await requestRun(db, graph, {
        ...rest,
        now: stored.now === undefined ? undefined : new Date(stored.now),
        runId,
        links: tickTraceparent ? [tickTraceparent] : undefined,
      });
    } catch (error) {
      if (databaseUnreachable(error)) throw error;
      if (!isDuplicateRun(error)) {
        await failRequest(db, runId, tickId, error);
        logger.error({ err: error, instigator, runId }, "could not request a run");
        continue;
      }
    }
    await db.updateTable("ingest.run_requests").set({ status: "requested", requested_at: new Date() }).where(
      "run_id",
      "=",
      runId,
    ).execute();
  }
  return pending.length;
}

async function failRequest(db: MetadataStore, runId: string, tickId: number, error: unknown): Promise<void> {
  const message = (error instanceof Error ? error.message : String(error)).replaceAll("\u0000", "\uFFFD");
  await db.transaction().execute(async (tx) => {
    await tx.updateTable("ingest.run_requests").set({ status: "failed", error: message }).where("run_id", "=", runId)
      .execute();
    await tx
      .updateTable("ingest.ticks")
      .set({
        status: "failed",
        reason: sql`concat_ws('; ', reason, ${`run ${runId.slice(0, 8)} could not be requested: ${message}`}::text)`,
      })
      .where("id", "=", tickId)
      .execute();
    await tx.updateTable("ingest.sensor_files").set({ status: "failed", processed_at: new Date() }).where(
      "run_id",
      "=",
      runId,
    ).execute();
  });
}

/** Records the tick as a span (attributes: instigator, kind, reason, the runs it requested); its traceparent. */
function tickSpan(tick: TickWithRuns, runIds: string[]): string | undefined {
  let traceparent: string | undefined;
  void withSpan(`tick ${tick.instigator}`, {
    parent: ROOT_CONTEXT,
    attributes: {
      "ingest.instigator": tick.instigator,
      "ingest.instigator.kind": tick.kind,
      "ingest.tick_time": tick.tickTime.toISOString(),
      "ingest.runs": runIds.join(","),
      ...(tick.reason && { "ingest.reason": tick.reason }),
    },
  }, async () => {
    traceparent = traceparentOf();
  });
  return traceparent;
}
