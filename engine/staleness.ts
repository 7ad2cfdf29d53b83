import type { AssetDefinition } from "./asset.ts";
import type { AssetGraph } from "./asset-graph.ts";
import type { StepRef } from "./steps.ts";
import { formatVersion, missingVersion, observedSourceKey, versionHash, type VersionIndex } from "./versions.ts";

/**
 * The partitions of `dep` that a step of `asset` reads: the same partition when both share a
 * partitioning, the whole dependency when only it is partitioned (or the partitionings differ),
 * and the dependency itself when it is not partitioned.
 */
export function upstreamPartitionsOf(
  asset: AssetDefinition,
  partitionKey: string,
  dep: AssetDefinition,
  now = new Date(),
): string[] {
  if (!dep.partitions) return [""];
  if (asset.partitions && partitionKey && asset.partitions.id === dep.partitions.id) return [partitionKey];
  return dep.partitions.keys(now);
}

export interface UpstreamEdge {
  asset: string;
  partition: string;
  materializationId: number | null;
  dataVersion: string;
}

/** The data version of each dependency as a step sees it now, and the materialisations behind it. */
export function currentUpstreamVersions(graph: AssetGraph, index: VersionIndex, step: StepRef, now = new Date()) {
  const asset = graph.byKey.get(step.assetKey)!;
  const versions: Record<string, string> = {};
  const edges: UpstreamEdge[] = [];
  for (const depKey of asset.deps) {
    const dep = graph.byKey.get(depKey)!;
    const partitions = upstreamPartitionsOf(asset, step.partitionKey, dep, now);
    const seen = partitions.map((partition) => {
      const latest = index.latest(depKey, partition);
      const edge = {
        asset: depKey,
        partition,
        materializationId: latest?.id ?? null,
        dataVersion: latest?.dataVersion ?? missingVersion,
      };
      edges.push(edge);
      return edge;
    });
    versions[depKey] = seen.length === 1 && !dep.partitions
      ? seen[0]!.dataVersion
      : versionHash(seen.map((e) => `${e.partition}=${e.dataVersion}`).join("\n"));
  }
  return { versions, edges };
}

/**
 * Why an asset (partition) is stale: never materialised, its code version or dependencies changed
 * since, its source (an observable source asset's) was observed changed, or an upstream's data version
 * is not the one it consumed.
 */
export type StaleCause =
  | { kind: "never-materialized" }
  | { kind: "code-version"; was: string; now: string }
  | { kind: "dependencies"; was: string[]; now: string[] }
  | {
    kind: "source-changed";
    /** The source's version the latest materialisation saw. */
    was: string;
    /** The one observed since. */
    now: string;
  }
  | {
    kind: "upstream-data";
    upstream: string;
    consumed: string | undefined;
    current: string;
    /** What the upstream's materialisations since the consumed one reported (filled in by `ingest status`). */
    since?: ChangesSince;
  };

/** The materialisations of an upstream after the one a downstream consumed, and their counts. */
export interface ChangesSince {
  /** How many successful materialisations of the upstream there were since. */
  materializations: number;
  /** The sum of their `written` counts, when they report one. */
  written?: number;
  /** The sum of their `removed` counts, when they report one. */
  removed?: number;
}

export function describeCause(cause: StaleCause): string {
  switch (cause.kind) {
    case "never-materialized":
      return "never materialised";
    case "code-version":
      return `code version changed (${cause.was} → ${cause.now})`;
    case "dependencies":
      return `dependencies changed ([${cause.was.join(", ")}] → [${cause.now.join(", ")}])`;
    case "source-changed":
      return `source changed (${observedText(cause.was)} → ${observedText(cause.now)})`;
    case "upstream-data": {
      const versions = `${formatVersion(cause.consumed)} → ${formatVersion(cause.current)}`;
      const since = cause.since;
      if (!since) return `upstream ${cause.upstream} has new data (${versions})`;
      const counts = [
        since.written !== undefined && `${since.written.toLocaleString("en")} written`,
        since.removed !== undefined && `${since.removed.toLocaleString("en")} removed`,
      ].filter(Boolean);
      const runs = `${since.materializations} materialisation${since.materializations === 1 ? "" : "s"} since`;
      return `upstream ${cause.upstream} has new data (${versions}; ${runs}${
        counts.length ? `: ${counts.join(", ")}` : ""
      })`;
    }
  }
}

/** An observed source version as people read it: whole when short, else by the start of its hash. */
function observedText(version: string): string {
  return version.length <= 120 ? version : formatVersion(versionHash(version));
}

/**
 * Dagster's rule, applied to what was recorded: a step is stale when it was never materialised,
 * its code version or its dependencies changed, or an upstream's data version differs from the
 * one it consumed. An upstream re-materialised to the same data version leaves it fresh.
 */
export function stalenessOf(graph: AssetGraph, index: VersionIndex, step: StepRef, now = new Date()): StaleCause[] {
  const asset = graph.byKey.get(step.assetKey)!;
  const latest = index.latest(step.assetKey, step.partitionKey);
  if (!latest) return [{ kind: "never-materialized" }];
  const causes: StaleCause[] = [];
  if (latest.codeVersion !== asset.codeVersion) {
    causes.push({ kind: "code-version", was: latest.codeVersion, now: asset.codeVersion });
  }
  const deps = [...asset.deps].sort();
  if (deps.join("\n") !== [...latest.dependencies].sort().join("\n")) {
    causes.push({ kind: "dependencies", was: [...latest.dependencies].sort(), now: deps });
  }
  // An observable source: compared only when both sides have a version (an observation that failed, or a
  // materialisation from before `observe` was declared, says nothing).
  const seen = latest.upstreamVersions[observedSourceKey];
  const observed = asset.observe ? index.observed(step.assetKey) : undefined;
  if (seen !== undefined && observed !== undefined && seen !== observed) {
    causes.push({ kind: "source-changed", was: seen, now: observed });
  }
  const { versions } = currentUpstreamVersions(graph, index, step, now);
  for (const [upstream, current] of Object.entries(versions)) {
    if (upstream === observedSourceKey) continue;
    const consumed = latest.upstreamVersions[upstream];
    if (consumed !== undefined && consumed !== current) {
      causes.push({ kind: "upstream-data", upstream, consumed, current });
    }
  }
  return causes;
}
