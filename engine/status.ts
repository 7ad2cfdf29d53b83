import type { AssetGraph } from "./asset-graph.ts";
import { sql } from "kysely";
import { type ChangesSince, describeCause, type StaleCause, stalenessOf } from "./staleness.ts";
import { VersionIndex } from "./versions.ts";
import type { MetadataStore } from "../db/schema.ts";
import { type CheckResult, checkResults } from "./checks.ts";
import type { Clock } from "./automation/clock.ts";
import { type Freshness, freshnessOf } from "./freshness.ts";
import { latestObservations, type Observation } from "./observations.ts";
import type { SchemaDrift } from "../connectors/staging/schema-drift.ts";

/** One asset (or asset partition) as `ingest status` shows it: fresh or stale, and why. */
export interface AssetStatus {
  /** The asset's key. */
  assetKey: string;
  /** The partition, or `""` for an unpartitioned asset. */
  partitionKey: string;
  /** The asset's group. */
  group: string;
  /** `fresh`: materialised, with nothing changed since; `stale`: see `causes`. */
  state: "fresh" | "stale";
  /** Why it is stale, as data (none when fresh). */
  causes: StaleCause[];
  /** `causes` in words, one each: `code version changed (1 → 2)`. */
  reasons: string[];
  /** The latest successful materialisation, if any. */
  lastMaterialization?: {
    /** The run it served. */
    runId: string;
    /** The data version it reported. */
    dataVersion: string;
    /** When it finished. */
    finishedAt: Date;
    /** How its source's fields differed from before, when they did (a staged asset's `schemaDrift`). */
    schemaDrift?: SchemaDrift;
  };
  /** The results of the checks of the latest successful materialisation. */
  checks: CheckResult[];
  /**
   * The latest attempt, when it failed after the latest success (or there was none): its error and the
   * checks it ran (a blocking check that failed is among them).
   */
  lastFailure?: {
    /** The run it served. */
    runId: string;
    /** Why it failed. */
    error: string;
    /** When it ended. */
    finishedAt: Date;
    /** The checks it ran. */
    checks: CheckResult[];
  };
  /** Runs with this step queued or running. */
  inFlight: { runId: string; status: string }[];
  /**
   * Whether the asset meets its freshness target (`freshness` of its definition), when it has one: the
   * asset's, so each partition of a partitioned asset carries the same.
   */
  freshness?: Freshness;
  /** An observable source's latest observation (its source's version, or why observing it failed). */
  observation?: Observation;
}

/**
 * The state of each selected asset (each existing partition of a partitioned one, as of `now`), with why
 * it is stale and whether it meets its freshness target, in the graph's order; what `ingest status` shows.
 * Keys the graph does not have are ignored. `now` is an instant, or a clock (the daemon's, which may run
 * compressed) that freshness reads materialisation times on.
 *
 * @example
 * ```ts
 * for (const s of await assetStatuses(db, graph, selectAssets(graph, "*"))) {
 *   console.log(s.assetKey, s.state, s.reasons.join("; "), s.freshness?.reason ?? "");
 * }
 * ```
 */
export async function assetStatuses(
  db: MetadataStore,
  graph: AssetGraph,
  keys: Iterable<string>,
  now: Date | Clock = new Date(),
): Promise<AssetStatus[]> {
  const clock = clockOf(now);
  const at = clock.now();
  const index = await VersionIndex.load(db);
  const active = await db
    .selectFrom("ingest.run_steps")
    .select(["run_id", "step_key", "asset_key", "partition_key", "status"])
    .where("status", "in", ["planned", "queued", "running"])
    .execute();
  const selected = new Set(keys);
  const failures = await latestFailures(db, [...selected]);
  const drifts = await schemaDrifts(
    db,
    [...selected].flatMap((key) => [...index.partitionsOf(key).values()].map((m) => m.id)),
  );
  const observations = await latestObservations(db, [...selected].filter((key) => graph.byKey.get(key)?.observe));
  const checks = await checkResults(db, [
    ...[...selected].flatMap((key) => [...index.partitionsOf(key).values()].map((m) => m.id)),
    ...[...failures.values()].map((f) => f.id),
  ]);
  const statuses: AssetStatus[] = [];
  for (const assetKey of graph.order) {
    if (!selected.has(assetKey)) continue;
    const asset = graph.byKey.get(assetKey)!;
    const freshness = freshnessFromIndex(graph, index, assetKey, clock);
    for (const partitionKey of asset.partitions ? asset.partitions.keys(at) : [""]) {
      const causes = stalenessOf(graph, index, { assetKey, partitionKey }, at);
      const latest = index.latest(assetKey, partitionKey);
      for (const cause of causes) {
        if (cause.kind === "upstream-data" && latest) cause.since = await changesSince(db, latest.id, cause.upstream);
      }
      const failure = failures.get(`${assetKey}\u0000${partitionKey}`);
      statuses.push({
        assetKey,
        partitionKey,
        group: asset.group,
        state: causes.length === 0 ? "fresh" : "stale",
        causes,
        reasons: causes.map(describeCause),
        lastMaterialization: latest && {
          runId: latest.runId,
          dataVersion: latest.dataVersion,
          finishedAt: latest.finishedAt,
          ...(drifts.has(latest.id) && { schemaDrift: drifts.get(latest.id) }),
        },
        checks: latest ? checks.get(latest.id) ?? [] : [],
        lastFailure: failure && (!latest || failure.id > latest.id)
          ? {
            runId: failure.runId,
            error: failure.error,
            finishedAt: failure.finishedAt,
            checks: checks.get(failure.id) ?? [],
          }
          : undefined,
        inFlight: active
          .filter((s) => s.asset_key === assetKey && s.partition_key === partitionKey)
          .map((s) => ({ runId: s.run_id, status: s.status })),
        ...(freshness && { freshness }),
        ...(observations.has(assetKey) && { observation: observations.get(assetKey) }),
      });
    }
  }
  return statuses;
}

/**
 * Whether each selected asset that declares a freshness target meets it, by key: what {@link assetStatuses}
 * reports as `freshness`, read alone (the daemon's alerts check it every few seconds).
 */
export async function assetFreshness(
  db: MetadataStore,
  graph: AssetGraph,
  keys: Iterable<string>,
  now: Date | Clock = new Date(),
): Promise<Map<string, Freshness>> {
  const clock = clockOf(now);
  const targeted = [...keys].filter((key) => graph.byKey.get(key)?.freshness);
  const index = await VersionIndex.load(db, targeted);
  return new Map(targeted.map((key) => [key, freshnessFromIndex(graph, index, key, clock)!]));
}

/** The schema drift the given materialisations recorded, by id (only those that recorded one). */
async function schemaDrifts(db: MetadataStore, ids: number[]): Promise<Map<number, SchemaDrift>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom("ingest.materializations")
    .select(["id", sql<SchemaDrift>`metadata->'schemaDrift'`.as("drift")])
    .where("id", "in", ids).where(sql<boolean>`metadata ? 'schemaDrift'`).execute();
  return new Map(rows.map((r) => [Number(r.id), r.drift]));
}

/** A fixed instant as a clock that reads it, taking recorded (real) times as they are. */
function clockOf(now: Date | Clock): Clock {
  if (!(now instanceof Date)) return now;
  return { now: () => now, msUntil: (time) => Math.max(0, time.getTime() - now.getTime()), at: (real) => real };
}

function freshnessFromIndex(graph: AssetGraph, index: VersionIndex, assetKey: string, clock: Clock) {
  const asset = graph.byKey.get(assetKey)!;
  if (!asset.freshness) return undefined;
  const onClock = (real: Date) => clock.at?.(real) ?? real;
  const materialized = new Map([...index.partitionsOf(assetKey)].map(([key, m]) => [key, onClock(m.finishedAt)]));
  return freshnessOf(asset.freshness, asset.partitions, materialized, clock.now());
}

/**
 * What an unpartitioned upstream's successful materialisations reported since the one that
 * materialisation `id` consumed (its lineage edge): how many, and their `written` and `removed`
 * counts when they report them. Undefined when the upstream is partitioned or the edge is gone.
 */
async function changesSince(db: MetadataStore, id: number, upstream: string): Promise<ChangesSince | undefined> {
  const { rows } = await sql<{ n: number; written: number | null; removed: number | null; consumed: number | null }>`
    select count(m.id)::int as n, sum((m.counts->>'written')::bigint)::bigint as written,
      sum((m.counts->>'removed')::bigint)::bigint as removed, max(e.upstream_materialization_id) as consumed
    from ingest.lineage_edges e
    left join ingest.materializations m on m.asset_key = e.upstream_asset and m.partition_key = ''
      and m.status = 'succeeded' and m.id > e.upstream_materialization_id
    where e.materialization_id = ${id} and e.upstream_asset = ${upstream} and e.upstream_partition = ''`.execute(db);
  const row = rows[0];
  if (!row || row.consumed === null) return undefined;
  return {
    materializations: row.n,
    ...(row.written !== null && { written: Number(row.written) }),
    ...(row.removed !== null && { removed: Number(row.removed) }),
  };
}

/** The latest failed materialisation of each (asset, partition) of `assetKeys`, keyed by asset and partition. */
async function latestFailures(db: MetadataStore, assetKeys: string[]) {
  if (assetKeys.length === 0) return new Map<string, never>();
  const rows = await db
    .selectFrom("ingest.materializations")
    .distinctOn(["asset_key", "partition_key"])
    .select(["id", "run_id", "asset_key", "partition_key", "error", "finished_at"])
    .where("status", "=", "failed")
    .where("asset_key", "in", assetKeys)
    .orderBy("asset_key")
    .orderBy("partition_key")
    .orderBy("id", "desc")
    .execute();
  return new Map(rows.map((r) => [
    `${r.asset_key}\u0000${r.partition_key}`,
    { id: Number(r.id), runId: r.run_id, error: r.error ?? "", finishedAt: new Date(r.finished_at) },
  ]));
}
