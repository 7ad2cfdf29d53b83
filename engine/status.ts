import type { AssetGraph } from "./asset-graph.ts";
import { sql } from "kysely";
import { type ChangesSince, describeCause, type StaleCause, stalenessOf } from "./staleness.ts";
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
      for (const cause of causes) {
        if (cause.kind === "upstream-data" && latest) cause.since = await changesSince(db, latest.id, cause.upstream);
      }
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
