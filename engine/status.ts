import type { AssetGraph } from "./asset-graph.ts";
import { describeCause, type StaleCause, stalenessOf } from "./staleness.ts";
import { VersionIndex } from "./versions.ts";
import type { MetadataStore } from "../db/schema.ts";

export interface AssetStatus {
  assetKey: string;
  partitionKey: string;
  group: string;
  state: "fresh" | "stale";
  causes: StaleCause[];
  reasons: string[];
  lastMaterialization?: { runId: string; dataVersion: string; finishedAt: Date };
  /** Runs with this step queued or running. */
  inFlight: { runId: string; status: string }[];
}

/** The state of each selected asset (each existing partition of a partitioned one), with why it is stale. */
export async function assetStatuses(
  db: MetadataStore,
  graph: AssetGraph,
  keys: Iterable<string>,
  now = new Date(),
): Promise<AssetStatus[]> {
  const index = await VersionIndex.load(db);
  const active = await db
    .selectFrom("ingest.run_steps")
    .select(["run_id", "step_key", "asset_key", "partition_key", "status"])
    .where("status", "in", ["planned", "queued", "running"])
    .execute();
  const selected = new Set(keys);
  const statuses: AssetStatus[] = [];
  for (const assetKey of graph.order) {
    if (!selected.has(assetKey)) continue;
    const asset = graph.byKey.get(assetKey)!;
    for (const partitionKey of asset.partitions ? asset.partitions.keys(now) : [""]) {
      const causes = stalenessOf(graph, index, { assetKey, partitionKey }, now);
      const latest = index.latest(assetKey, partitionKey);
      statuses.push({
        assetKey,
        partitionKey,
        group: asset.group,
        state: causes.length === 0 ? "fresh" : "stale",
        causes,
        reasons: causes.map(describeCause),
        lastMaterialization: latest &&
          { runId: latest.runId, dataVersion: latest.dataVersion, finishedAt: latest.finishedAt },
        inFlight: active
          .filter((s) => s.asset_key === assetKey && s.partition_key === partitionKey)
          .map((s) => ({ runId: s.run_id, status: s.status })),
      });
    }
  }
  return statuses;
}
