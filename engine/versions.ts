import { createHash } from "node:crypto";
import type { MetadataStore } from "../db/schema.ts";

/**
 * A data version that is a hash of `text` (what an asset reported, the versions of the partitions read): 32 hex characters
 * (the first half of its SHA-256). Equal texts give equal versions, so an asset that rebuilt the same thing is not new.
 *
 * @example
 * ```ts
 * return { dataVersion: versionHash(JSON.stringify([upstreamVersions, "1"])) };
 * ```
 */
export function versionHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

/**
 * A data version as people read it: a hash by its first 8 characters, a version number (`v1342`) whole,
 * `none` for no version.
 *
 * @example
 * ```ts
 * formatVersion("0f1e2d3c4b5a69788796a5b4c3d2e1f0"); // "0f1e2d3c"
 * formatVersion("v1342"); // "v1342"
 * ```
 */
export function formatVersion(version: string | undefined): string {
  if (version === undefined) return "none";
  return /^[0-9a-f]{32,}$/.test(version) ? version.slice(0, 8) : version;
}

export const missingVersion = "never-materialized";

/**
 * Where a materialisation of an observable source keeps the source's version it saw, beside the data
 * versions of its upstream assets (no asset key can start with `@`).
 */
export const observedSourceKey = "@source";

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
  readonly #observed = new Map<string, string>();

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
    let observations = db.selectFrom("ingest.observations").select(["asset_key", "version"])
      .where("version", "is not", null);
    if (assetKeys) {
      if (assetKeys.length === 0) return new VersionIndex();
      query = query.where("asset_key", "in", [...assetKeys]);
      observations = observations.where("asset_key", "in", [...assetKeys]);
    }
    const [rows, observed] = await Promise.all([query.execute(), observations.execute()]);
    const index = VersionIndex.fromRows(rows);
    for (const o of observed) index.observe(o.asset_key, o.version!);
    return index;
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

  /** The latest version observed of an observable source asset's source, if any. */
  observed(assetKey: string): string | undefined {
    return this.#observed.get(assetKey);
  }

  /** Takes a newer observation of a source asset into account. */
  observe(assetKey: string, version: string): void {
    this.#observed.set(assetKey, version);
  }

  partitionsOf(assetKey: string): ReadonlyMap<string, LatestMaterialization> {
    return this.#latest.get(assetKey) ?? new Map();
  }
}
