import { sql } from "kysely";
import type { IncidentKind, IncidentRow, MetadataStore } from "../../db/schema.ts";
import { redactText } from "../../resources/redact.ts";
import type { AssetGraph } from "../asset-graph.ts";
import type { Clock } from "../automation/clock.ts";
import { assetFreshness } from "../status.ts";
import type { DeadLetterThreshold } from "./config.ts";
import type { Opening } from "./incidents.ts";

/** What a condition needs to look at the project: its assets, the daemon's clock, when alerts began watching. */
export interface ConditionContext {
  db: MetadataStore;
  graph: AssetGraph;
  clock: Clock;
  /** What failed or died before this is not alerted on: the first time a daemon watched this database. */
  since: Date;
}

/** What a condition found about one subject: whether an incident should be open, and if not, why it is fine. */
export interface Observation extends Opening {
  firing: boolean;
  /** When not firing: how it cleared, in words, for an open incident's resolution. */
  resolution: string;
}

/** What a condition decided about the open incidents of its kind. */
export interface Verdicts {
  open: Opening[];
  resolve: { incident: IncidentRow; resolution: string }[];
}

/**
 * A condition that holds or not at each look (freshness, dead letters): an incident opens when it holds
 * and none is open, and resolves when it no longer holds or its subject is no longer checked.
 */
export function stateVerdicts(
  observations: Observation[],
  open: IncidentRow[],
  unchecked: (subject: string) => string,
): Verdicts {
  const bySubject = new Map(observations.map((o) => [o.subject, o]));
  const openSubjects = new Set(open.map((i) => i.subject));
  return {
    open: observations.filter((o) => o.firing && !openSubjects.has(o.subject)),
    resolve: open.flatMap((incident) => {
      const seen = bySubject.get(incident.subject);
      if (!seen) return [{ incident, resolution: unchecked(incident.subject) }];
      return seen.firing ? [] : [{ incident, resolution: seen.resolution }];
    }),
  };
}

/** Each asset with a freshness target, missed or met, as {@link assetStatuses} judges it on the daemon's clock. */
export async function freshnessObservations(ctx: ConditionContext): Promise<Observation[]> {
  const keys = ctx.graph.order.filter((key) => ctx.graph.byKey.get(key)!.freshness);
  const judged = await assetFreshness(ctx.db, ctx.graph, keys, ctx.clock);
  return [...judged].map(([assetKey, freshness]) => ({
    kind: "freshness",
    subject: assetKey,
    firing: freshness.state === "missed",
    summary: `${assetKey} missed its freshness target (${freshness.target})`,
    details: { assetKey, ...freshness },
    resolution: `${assetKey} is fresh again: ${freshness.reason}`,
  }));
}

/**
 * Each asset's open dead letters against the threshold. Only letters recorded by successful
 * materialisations count (a run in progress has not yet superseded the ones before it), against what the
 * latest successful materialisation of each partition extracted.
 */
export async function deadLetterObservations(
  ctx: ConditionContext,
  threshold: Required<Pick<DeadLetterThreshold, "fraction">> & { count?: number },
): Promise<Observation[]> {
  const keys = ctx.graph.order;
  const { rows } = await sql<{ asset_key: string; open: string; extracted: string | null }>`
    with by_run as (
      select d.asset_key, d.partition_key, d.run_id, count(*) as open from ingest.dead_letters d
      where d.status = 'open' and d.asset_key = any(${keys}::text[])
      group by d.asset_key, d.partition_key, d.run_id
    ), letters as (
      select b.asset_key, sum(b.open) as open from by_run b
      where exists (
        select 1 from ingest.materializations m where m.run_id = b.run_id and m.asset_key = b.asset_key
          and m.partition_key = b.partition_key and m.status = 'succeeded')
      group by b.asset_key
    ), latest as (
      select distinct on (m.asset_key, m.partition_key) m.asset_key, (m.counts->>'extracted')::bigint as extracted
      from ingest.materializations m join letters l on l.asset_key = m.asset_key
      where m.status = 'succeeded' order by m.asset_key, m.partition_key, m.id desc
    )
    select l.asset_key, l.open, (select sum(x.extracted) from latest x where x.asset_key = l.asset_key) as extracted
    from letters l`.execute(ctx.db);
  const counts = new Map(rows.map((r) => [r.asset_key, { open: Number(r.open), extracted: r.extracted }]));
  const percent = (n: number) => `${Number((n * 100).toPrecision(3))}%`;
  return keys.map((assetKey) => {
    const { open, extracted } = counts.get(assetKey) ?? { open: 0, extracted: null };
    const of = extracted === null ? undefined : Number(extracted);
    const overFraction = of !== undefined && of > 0 && open > threshold.fraction * of;
    const overCount = threshold.count !== undefined && open > threshold.count;
    const limits = [
      `${percent(threshold.fraction)} of what was extracted`,
      ...(threshold.count !== undefined ? [`${threshold.count.toLocaleString("en")} in all`] : []),
    ].join(" or ");
    const share = of ? `, ${percent(open / of)} of ${of.toLocaleString("en")} extracted` : "";
    return {
      kind: "dead-letters",
      subject: assetKey,
      firing: overFraction || overCount,
      summary: `${assetKey} has ${open.toLocaleString("en")} open dead letters${share} (threshold: ${limits})`,
      details: {
        assetKey,
        open,
        ...(of !== undefined && { extracted: of }),
        fraction: threshold.fraction,
        ...(threshold.count !== undefined && { count: threshold.count }),
      },
      resolution: `${assetKey} has ${open.toLocaleString("en")} open dead letters${share}, within the threshold`,
    };
  });
}

/** What a failed run's failures look like in its incident: one per asset, with the partitions that failed. */
interface FailedStep {
  asset_key: string;
  partition_key: string;
  error: string | null;
  attempts: number;
  failed_at: Date;
}

/**
 * The project's failed runs not yet alerted on (those that ended after `since`), oldest first, and the
 * steps of each that failed.
 */
export async function failedRuns(
  ctx: ConditionContext,
  limit = 50,
): Promise<{ runId: string; selection: string; steps: FailedStep[] }[]> {
  const keys = ctx.graph.order;
  const runs = await sql<{ id: string; selection: string }>`
    select r.id, r.selection from ingest.runs r
    where r.status = 'failed' and r.finished_at >= ${ctx.since}
      and not exists (select 1 from ingest.alerted_runs a where a.run_id = r.id)
      and exists (select 1 from ingest.run_steps s where s.run_id = r.id and s.status = 'failed' and s.asset_key = any(${keys}::text[]))
    order by r.finished_at limit ${limit}`.execute(ctx.db);
  if (runs.rows.length === 0) return [];
  const steps = await sql<FailedStep & { run_id: string }>`
    select s.run_id, s.asset_key, s.partition_key, s.error, s.attempts, coalesce(s.finished_at, r.finished_at) as failed_at
    from ingest.run_steps s join ingest.runs r on r.id = s.run_id
    where s.run_id = any(${
    runs.rows.map((r) => r.id)
  }::text[]) and s.status = 'failed' and s.asset_key = any(${keys}::text[])
    order by s.asset_key, s.partition_key`.execute(ctx.db);
  return runs.rows.map((run) => ({
    runId: run.id,
    selection: run.selection,
    steps: steps.rows.filter((s) => s.run_id === run.id),
  }));
}

/** A failure as an incident keeps it: which run, which partition, when. */
export interface Failure {
  runId: string;
  partitionKey: string;
  failedAt: string;
}

/** The incident of an asset's failures in one run (the first line of the error in the summary's details). */
export function failureOpening(run: { runId: string; selection: string }, steps: FailedStep[]): Opening {
  const assetKey = steps[0]!.asset_key;
  const error = redactText(steps[0]!.error ?? "");
  const partitions = steps.map((s) => s.partition_key).filter(Boolean);
  return {
    kind: "run-failed",
    subject: assetKey,
    summary: `${assetKey}${partitions.length === 1 ? ` [${partitions[0]}]` : ""}${
      partitions.length > 1 ? ` (${partitions.length} partitions)` : ""
    } failed in run ${run.runId.slice(0, 8)}`,
    details: {
      assetKey,
      runId: run.runId,
      selection: run.selection,
      ...(partitions.length > 0 && { partitions }),
      error: error.split("\n")[0] ?? "",
      attempts: Math.max(...steps.map((s) => s.attempts)),
      stack: error.slice(0, 4_000),
      failures: steps.map((s): Failure => ({
        runId: run.runId,
        partitionKey: s.partition_key,
        failedAt: new Date(s.failed_at).toISOString(),
      })),
    },
  };
}

/**
 * Open `run-failed` incidents that have cleared: every partition that failed has materialised
 * successfully since (by the latest success), or the asset is no longer declared.
 */
export async function clearedFailures(
  ctx: ConditionContext,
  open: IncidentRow[],
): Promise<{ incident: IncidentRow; resolution: string }[]> {
  const cleared: { incident: IncidentRow; resolution: string }[] = [];
  for (const incident of open) {
    if (!ctx.graph.byKey.has(incident.subject)) {
      cleared.push({ incident, resolution: `${incident.subject} is no longer declared` });
      continue;
    }
    const latestFailure = new Map<string, number>();
    for (const f of (incident.details.failures ?? []) as Failure[]) {
      latestFailure.set(f.partitionKey, Math.max(latestFailure.get(f.partitionKey) ?? 0, Date.parse(f.failedAt)));
    }
    if (latestFailure.size === 0) continue;
    const { rows } = await sql<{ partition_key: string; finished_at: Date; run_id: string }>`
      select distinct on (partition_key) partition_key, finished_at, run_id from ingest.materializations
      where asset_key = ${incident.subject} and status = 'succeeded' and partition_key = any(${[
      ...latestFailure.keys(),
    ]}::text[])
      order by partition_key, id desc`.execute(ctx.db);
    const successes = new Map(rows.map((r) => [r.partition_key, r]));
    const allSince = [...latestFailure].every(([partition, failedAt]) => {
      const success = successes.get(partition);
      return success !== undefined && new Date(success.finished_at).getTime() > failedAt;
    });
    if (!allSince) continue;
    const latest = rows.reduce((a, b) => (new Date(a.finished_at) > new Date(b.finished_at) ? a : b));
    cleared.push({ incident, resolution: `${incident.subject} succeeded in run ${latest.run_id}` });
  }
  return cleared;
}

/** Workers found dead since alerts began watching, each once per time it went silent. */
export async function deadWorkers(ctx: ConditionContext): Promise<Opening[]> {
  const { rows } = await sql<
    {
      id: string;
      host: string | null;
      pid: number | null;
      last_seen: Date;
      timeout_ms: number;
      released_jobs: number[];
      release_reason: string | null;
    }
  >`
    select w.id, w.host, w.pid, coalesce(w.last_seen, w.started_at) as last_seen, w.timeout_ms, w.released_jobs,
      w.release_reason
    from ingest.workers w
    where w.stopped_at is null
      and coalesce(w.last_seen, w.started_at) < now() - w.timeout_ms * interval '1 millisecond'
      and coalesce(w.last_seen, w.started_at) + w.timeout_ms * interval '1 millisecond' >= ${ctx.since}
      and not exists (select 1 from ingest.incidents i where i.kind = 'worker-dead' and i.subject = w.id
        and i.opened_at >= coalesce(w.last_seen, w.started_at))
    order by w.last_seen`.execute(ctx.db);
  return rows.map((w) => {
    const where = `${w.host ?? "?"}:${w.pid ?? "?"}`;
    const lastSeen = new Date(w.last_seen).toISOString();
    return {
      kind: "worker-dead" as IncidentKind,
      subject: w.id,
      summary: `worker ${where} is dead: no heartbeat since ${lastSeen.replace("T", " ").replace(/\.\d+Z$/, "Z")}`,
      details: {
        workerId: w.id,
        host: w.host,
        pid: w.pid,
        lastSeen,
        timeoutMs: w.timeout_ms,
        releasedJobs: w.released_jobs,
        ...(w.release_reason && { releaseReason: w.release_reason }),
      },
    };
  });
}

/**
 * Open `worker-dead` incidents that have cleared: the worker heartbeat again or stopped, or a worker
 * started since it went silent is live (it was restarted or replaced).
 */
export async function clearedWorkers(
  ctx: ConditionContext,
  open: IncidentRow[],
): Promise<{ incident: IncidentRow; resolution: string }[]> {
  if (open.length === 0) return [];
  const cleared: { incident: IncidentRow; resolution: string }[] = [];
  for (const incident of open) {
    const silentSince = new Date(String(incident.details.lastSeen));
    const { rows: [worker] } = await sql<{ last_seen: Date | null; stopped_at: Date | null }>`
      select last_seen, stopped_at from ingest.workers where id = ${incident.subject}`.execute(ctx.db);
    if (!worker) {
      cleared.push({ incident, resolution: `worker ${incident.subject} is no longer recorded` });
    } else if (worker.stopped_at) {
      cleared.push({ incident, resolution: `worker ${incident.subject} stopped` });
    } else if (worker.last_seen && new Date(worker.last_seen) > silentSince) {
      cleared.push({ incident, resolution: `worker ${incident.subject} is alive again` });
    } else {
      const { rows: [successor] } = await sql<{ id: string; host: string | null; pid: number | null }>`
        select id, host, pid from ingest.workers
        where started_at > ${silentSince} and stopped_at is null
          and last_seen > now() - timeout_ms * interval '1 millisecond'
        order by started_at limit 1`.execute(ctx.db);
      if (successor) {
        cleared.push({
          incident,
          resolution: `replaced: worker ${successor.host ?? "?"}:${
            successor.pid ?? "?"
          } (${successor.id}) started since`,
        });
      }
    }
  }
  return cleared;
}
