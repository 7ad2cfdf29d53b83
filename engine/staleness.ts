import { createHash } from "node:crypto";
import type { AssetDefinition } from "./asset.ts";
import type { AssetGraph } from "./definitions.ts";
import type { StepRef } from "./steps.ts";
import type { MetadataStore } from "./store.ts";

export interface LatestMaterialization {
  id: number;
  runId: string;
  codeVersion: string;
  dataVersion: string;
  dependencies: string[];
  upstreamVersions: Record<string, string>;
  finishedAt: Date;
}

interface MaterializationRow {
  id: number | string;
  run_id: string;
  asset_key: string;
  partition_key: string;
  code_version: string;
  data_version: string | null;
  dependencies: string[];
  upstream_versions: Record<string, string>;
  finished_at: Date | string;
}

/** The latest successful materialisation of each (asset, partition): what staleness is judged on. */
export class VersionIndex {
  readonly #latest = new Map<string, Map<string, LatestMaterialization>>();

  static async load(db: MetadataStore, assetKeys?: readonly string[]): Promise<VersionIndex> {
    let query = db
      .selectFrom("ingest.materializations")
      .distinctOn(["asset_key", "partition_key"])
      .select([
        "id",
        "run_id",
        "asset_key",
        "partition_key",
        "code_version",
        "data_version",
        "dependencies",
        "upstream_versions",
        "finished_at",
      ])
      .where("status", "=", "succeeded")
      .orderBy("asset_key")
      .orderBy("partition_key")
      .orderBy("id", "desc");
    if (assetKeys) {
      if (assetKeys.length === 0) return new VersionIndex();
      query = query.where("asset_key", "in", [...assetKeys]);
    }
    return VersionIndex.fromRows(await query.execute());
  }

  /** From rows of `ingest.materializations` (as the query above, or as JSON from `ingest.claim_steps`). */
  static fromRows(rows: MaterializationRow[]): VersionIndex {
    const index = new VersionIndex();
    for (const row of rows) {
      const partitions = index.#latest.get(row.asset_key) ??
        index.#latest.set(row.asset_key, new Map()).get(row.asset_key)!;
      partitions.set(row.partition_key, {
        id: Number(row.id),
        runId: row.run_id,
        codeVersion: row.code_version,
        dataVersion: row.data_version!,
        dependencies: row.dependencies,
        upstreamVersions: row.upstream_versions,
        finishedAt: new Date(row.finished_at),
      });
    }
    return index;
  }

  latest(assetKey: string, partitionKey = ""): LatestMaterialization | undefined {
    return this.#latest.get(assetKey)?.get(partitionKey);
  }

  partitionsOf(assetKey: string): ReadonlyMap<string, LatestMaterialization> {
    return this.#latest.get(assetKey) ?? new Map();
  }
}

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

export const missingVersion = "never-materialized";

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
      : createHash("sha256").update(seen.map((e) => `${e.partition}=${e.dataVersion}`).join("\n")).digest("hex").slice(
        0,
        32,
      );
  }
  return { versions, edges };
}

export type StaleCause =
  | { kind: "never-materialized" }
  | { kind: "code-version"; was: string; now: string }
  | { kind: "dependencies"; was: string[]; now: string[] }
  | { kind: "upstream-data"; upstream: string; consumed: string | undefined; current: string };

export function describeCause(cause: StaleCause): string {
  switch (cause.kind) {
    case "never-materialized":
      return "never materialised";
    case "code-version":
      return `code version changed (${cause.was} → ${cause.now})`;
    case "dependencies":
      return `dependencies changed ([${cause.was.join(", ")}] → [${cause.now.join(", ")}])`;
    case "upstream-data":
      return `upstream ${cause.upstream} has new data (${cause.consumed?.slice(0, 8) ?? "none"} → ${
        cause.current.slice(0, 8)
      })`;
  }
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
  const { versions } = currentUpstreamVersions(graph, index, step, now);
  for (const [upstream, current] of Object.entries(versions)) {
    const consumed = latest.upstreamVersions[upstream];
    if (consumed !== undefined && consumed !== current) {
      causes.push({ kind: "upstream-data", upstream, consumed, current });
    }
  }
  return causes;
}
