import type { AssetDefinition } from "./asset.ts";
import type { TimeWindowPartitions } from "./partitions.ts";
import type { AssetGraph } from "./asset-graph.ts";
import { stalenessOf, upstreamPartitionsOf } from "./staleness.ts";
import type { VersionIndex } from "./versions.ts";
import { stepKeyOf, type StepRef } from "./steps.ts";
import type { PlannedStep } from "./run-queue.ts";

/**
 * What a run materialises: the selected assets and, for partitioned ones, which partitions. An
 * unpartitioned asset in the same selection is materialised once.
 */
export interface PlanRequest {
  /** The selected asset keys (`selectAssets(graph, selection)`, which checks them); a key the graph does not have is ignored. */
  keys: Iterable<string>;
  /** Partitions of the partitioned assets to materialise (`--partition`). */
  partitions?: string[];
  /** An inclusive range of partitions (`--from`/`--to`): a backfill. */
  range?: {
    /** The first partition key. */
    from: string;
    /** The last partition key (included). */
    to: string;
  };
  /**
   * Only stale steps, plus the steps downstream of them, which run only if they turn out stale once
   * their upstreams are done: an upstream that yields the same data version leaves them fresh.
   */
  staleOnly?: boolean;
  /** The latest materialisations; required with `staleOnly`. */
  index?: VersionIndex;
  /** The time a time partition's window must have ended by (default now). */
  now?: Date;
}

export class PlanError extends Error {
  override name = "PlanError";
}

/** A time partition whose window has not ended yet holds no complete data: asking for it is a mistake, not a run. */
function assertWindowEnded(asset: AssetDefinition, key: string, now: Date): void {
  const definition = asset.partitions;
  if (definition?.kind !== "time") return;
  const time = definition as TimeWindowPartitions;
  const end = time.window(key).end;
  if (end > now) {
    const latest = time.lastCompleteKey(now);
    throw new PlanError(
      `partition '${key}' of asset '${asset.key}' does not exist yet: its window ends at ${end.toISOString()}; ${
        latest ? `the latest is '${latest}'` : "no window has ended yet"
      }`,
    );
  }
}

function partitionsFor(asset: AssetDefinition, request: PlanRequest, now: Date): string[] {
  const definition = asset.partitions;
  if (!definition) return [""];
  if (request.partitions) {
    for (const key of request.partitions) {
      definition.assertKey(key);
      assertWindowEnded(asset, key, now);
    }
    return request.partitions;
  }
  if (request.range) {
    const keys = definition.keysBetween(request.range.from, request.range.to);
    assertWindowEnded(asset, keys.at(-1)!, now);
    return keys;
  }
  if (request.staleOnly) return definition.keys(now);
  throw new PlanError(
    `asset '${asset.key}' is partitioned: choose partitions with --partition or --from/--to, or use --stale`,
  );
}

/**
 * Turns a selection into the steps of a run, upstream first: one per asset, or per partition of a
 * partitioned asset, each listing the steps of the same run it waits for.
 */
export function plan(graph: AssetGraph, request: PlanRequest): PlannedStep[] {
  const now = request.now ?? new Date();
  const selected = new Set(request.keys);
  if ((request.partitions || request.range) && ![...selected].some((key) => graph.byKey.get(key)?.partitions)) {
    const shown = [...selected].slice(0, 5).join(", ") + (selected.size > 5 ? `, … (${selected.size - 5} more)` : "");
    throw new PlanError(
      `--partition, --from and --to choose partitions of partitioned assets, and none of the selected assets is partitioned (${shown})`,
    );
  }
  const partitionsOf = new Map<string, string[]>();
  const steps: PlannedStep[] = [];
  for (const key of graph.order) {
    if (!selected.has(key)) continue;
    const asset = graph.byKey.get(key)!;
    const partitions = partitionsFor(asset, request, now);
    partitionsOf.set(key, partitions);
    for (const partitionKey of partitions) {
      const upstream: string[] = [];
      for (const depKey of asset.deps) {
        const planned = partitionsOf.get(depKey);
        if (!planned) continue;
        const reads = new Set(upstreamPartitionsOf(asset, partitionKey, graph.byKey.get(depKey)!, now));
        for (const p of planned) if (reads.has(p)) upstream.push(stepKeyOf({ assetKey: depKey, partitionKey: p }));
      }
      steps.push({ assetKey: key, partitionKey, upstream, onlyIfStale: false, maxAttempts: asset.retry.maxAttempts });
    }
  }
  return request.staleOnly ? onlyStale(graph, steps, request.index, now) : steps;
}

/** Keeps the stale steps and, as only-if-stale, what is downstream of them within the plan. */
function onlyStale(graph: AssetGraph, steps: PlannedStep[], index: VersionIndex | undefined, now: Date): PlannedStep[] {
  if (!index) throw new PlanError("planning only stale assets needs the version index");
  const included = new Map<string, PlannedStep>();
  for (const step of steps) {
    const stale = stalenessOf(graph, index, step as StepRef, now).length > 0;
    const afterStale = step.upstream.some((u) => included.has(u));
    if (stale || afterStale) included.set(stepKeyOf(step), { ...step, onlyIfStale: !stale });
  }
  return [...included.values()].map((s) => ({ ...s, upstream: s.upstream.filter((u) => included.has(u)) }));
}
