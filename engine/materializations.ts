import { camelCased } from "../db/camel-case.ts";
import type { CamelCased } from "../db/camel-case.ts";
import type { Materialization, MetadataStore } from "../db/schema.ts";
import { type CheckResult, checkResults } from "./checks.ts";

/** An upstream materialisation a materialisation read, and the data version it consumed. */
export interface ConsumedVersion {
  /** The upstream asset. */
  assetKey: string;
  /** Its partition, or `""`. */
  partitionKey: string;
  /** The upstream materialisation read; null when the upstream had none. */
  materializationId: number | null;
  /** The data version consumed. */
  dataVersion: string;
}

/** A materialisation attempt of an asset with what it read and its check results (the UI's asset page). */
export interface MaterializationHistory extends Omit<CamelCased<Materialization>, "id"> {
  /** The materialisation's id. */
  id: number;
  /** The upstream materialisations it read, one per upstream asset partition (none for a failed attempt). */
  consumed: ConsumedVersion[];
  /** The results of its checks. */
  checks: CheckResult[];
}

/**
 * The latest materialisation attempts of an asset (of one partition, when given), newest first: status,
 * counts, data and code version, duration, the upstream versions each consumed and its checks.
 *
 * @example
 * ```ts
 * for (const m of await assetMaterializations(db, "graph/Product", { limit: 5 })) {
 *   console.log(m.status, m.dataVersion, m.counts, m.consumed.map((c) => `${c.assetKey}@${c.dataVersion}`));
 * }
 * ```
 */
export async function assetMaterializations(
  db: MetadataStore,
  assetKey: string,
  options: { partitionKey?: string; limit?: number } = {},
): Promise<MaterializationHistory[]> {
  let query = db.selectFrom("ingest.materializations").selectAll().where("asset_key", "=", assetKey)
    .orderBy("id", "desc").limit(options.limit ?? 20);
  if (options.partitionKey !== undefined) query = query.where("partition_key", "=", options.partitionKey);
  const rows = await query.execute();
  if (rows.length === 0) return [];
  const ids = rows.map((r) => Number(r.id));
  const edges = await db.selectFrom("ingest.lineage_edges").selectAll().where("materialization_id", "in", ids)
    .orderBy("upstream_asset").orderBy("upstream_partition").execute();
  const checks = await checkResults(db, ids);
  return rows.map((row) => ({
    ...camelCased(row),
    id: Number(row.id),
    consumed: edges.filter((e) => Number(e.materialization_id) === Number(row.id)).map((e) => ({
      assetKey: e.upstream_asset,
      partitionKey: e.upstream_partition,
      materializationId: e.upstream_materialization_id === null ? null : Number(e.upstream_materialization_id),
      dataVersion: e.upstream_data_version,
    })),
    checks: checks.get(Number(row.id)) ?? [],
  }));
}
