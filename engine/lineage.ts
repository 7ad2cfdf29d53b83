import type { MetadataStore } from "../db/schema.ts";
import { formatVersion } from "./versions.ts";

/** A materialisation in a lineage tree, with the materialisations it read. */
export interface LineageNode {
  /** The asset materialised. */
  assetKey: string;
  /** Its partition, or `""`. */
  partitionKey: string;
  /** The materialisation's id in `ingest.materializations`. */
  materializationId: number;
  /** The run it served. */
  runId: string;
  /** The asset's code version then. */
  codeVersion: string;
  /** The data version it reported. */
  dataVersion: string;
  /** When it finished. */
  finishedAt: Date;
  /** The data version its downstream consumed (the lineage edge's record; absent at the root). */
  consumedVersion?: string;
  /** The materialisations it read, one per upstream asset partition (fewer when `depth` ran out). */
  upstream: LineageNode[];
}

async function materialization(db: MetadataStore, id: number) {
  return db
    .selectFrom("ingest.materializations")
    .select(["id", "asset_key", "partition_key", "run_id", "code_version", "data_version", "finished_at"])
    .where("id", "=", id)
    .executeTakeFirst();
}

/**
 * The upstream chain of an asset's latest successful materialisation (or its latest in run `runId`): for
 * each dependency, the materialisation it read and the data version it consumed, recursively, `depth`
 * levels deep (default 20). Undefined when there is no such materialisation.
 *
 * @example
 * ```ts
 * const root = await lineageOf(db, { assetKey: "graph/Product" });
 * for (const read of root?.upstream ?? []) console.log(read.assetKey, read.dataVersion, read.runId);
 * ```
 */
export async function lineageOf(
  db: MetadataStore,
  target: {
    /** The asset whose lineage is wanted. */
    assetKey: string;
    /** Its partition (default `""`, unpartitioned). */
    partitionKey?: string;
    /** The run whose materialisation to start from (default: the latest). */
    runId?: string;
  },
  depth = 20,
): Promise<LineageNode | undefined> {
  let query = db
    .selectFrom("ingest.materializations")
    .select("id")
    .where("asset_key", "=", target.assetKey)
    .where("partition_key", "=", target.partitionKey ?? "")
    .where("status", "=", "succeeded")
    .orderBy("id", "desc")
    .limit(1);
  if (target.runId) query = query.where("run_id", "=", target.runId);
  const root = await query.executeTakeFirst();
  return root ? expand(db, Number(root.id), undefined, depth) : undefined;
}

async function expand(
  db: MetadataStore,
  id: number,
  consumedVersion: string | undefined,
  depth: number,
): Promise<LineageNode | undefined> {
  const m = await materialization(db, id);
  if (!m) return undefined;
  const edges = depth <= 0
    ? []
    : await db.selectFrom("ingest.lineage_edges").selectAll().where("materialization_id", "=", id).orderBy(
      "upstream_asset",
    ).orderBy("upstream_partition").execute();
  const upstream: LineageNode[] = [];
  for (const edge of edges) {
    if (edge.upstream_materialization_id === null) continue;
    const node = await expand(db, Number(edge.upstream_materialization_id), edge.upstream_data_version, depth - 1);
    if (node) upstream.push(node);
  }
  return {
    assetKey: m.asset_key,
    partitionKey: m.partition_key,
    materializationId: Number(m.id),
    runId: m.run_id,
    codeVersion: m.code_version,
    dataVersion: m.data_version!,
    finishedAt: m.finished_at,
    consumedVersion,
    upstream,
  };
}

export function renderLineage(node: LineageNode, prefix = "", last = true, root = true): string[] {
  const name = node.partitionKey ? `${node.assetKey} [${node.partitionKey}]` : node.assetKey;
  const line = `${root ? "" : `${prefix}${last ? "└─ " : "├─ "}`}${name}  data ${
    formatVersion(node.dataVersion)
  }  code ${node.codeVersion}  run ${node.runId}  ${node.finishedAt.toISOString()}`;
  const childPrefix = root ? "" : `${prefix}${last ? "   " : "│  "}`;
  return [
    line,
    ...node.upstream.flatMap((child, i) => renderLineage(child, childPrefix, i === node.upstream.length - 1, false)),
  ];
}

/** A materialisation that read another, as {@link downstreamOf} finds it. */
export interface DownstreamNode {
  /** The asset materialised. */
  assetKey: string;
  /** Its partition, or `""`. */
  partitionKey: string;
  /** The materialisation's id. */
  materializationId: number;
  /** The run it served. */
  runId: string;
  /** The data version it reported. */
  dataVersion: string;
  /** When it finished. */
  finishedAt: Date;
  /** The materialisations that read it in turn (fewer when `depth` ran out). */
  downstream: DownstreamNode[];
}

/**
 * Lineage the other way: the successful materialisations that read materialisation `id`, and those that
 * read them, `depth` levels deep (default 3), at most `limit` per level and materialisation (default 20).
 */
export async function downstreamOf(
  db: MetadataStore,
  id: number,
  depth = 3,
  limit = 20,
): Promise<DownstreamNode[]> {
  if (depth <= 0) return [];
  const rows = await db.selectFrom("ingest.lineage_edges as e")
    .innerJoin("ingest.materializations as m", "m.id", "e.materialization_id")
    .select(["m.id", "m.asset_key", "m.partition_key", "m.run_id", "m.data_version", "m.finished_at"])
    .where("e.upstream_materialization_id", "=", id)
    .where("m.status", "=", "succeeded")
    .orderBy("m.id")
    .limit(limit)
    .execute();
  return await Promise.all(rows.map(async (m) => ({
    assetKey: m.asset_key,
    partitionKey: m.partition_key,
    materializationId: Number(m.id),
    runId: m.run_id,
    dataVersion: m.data_version!,
    finishedAt: m.finished_at,
    downstream: await downstreamOf(db, Number(m.id), depth - 1, limit),
  })));
}
