import type { Logger } from "../resources/logger.ts";

/** What a materialisation reports back; the engine records it with the run. */
export interface MaterializeResult {
  /** Record counts, e.g. `{ extracted, loaded, deadLettered }`. */
  counts?: Record<string, number>;
  /** Anything worth showing with the materialisation (JSON-serialisable). */
  metadata?: Record<string, unknown>;
  /**
   * A hash of what the asset now holds. When two materialisations report the same data version,
   * downstream assets are not stale. Defaults to a hash of `counts` and `metadata`.
   */
  dataVersion?: string;
}

export interface MaterializeContext<R> {
  runId: string;
  assetKey: string;
  /** The partition being materialised, for partitioned assets. */
  partitionKey?: string;
  /** The resources this asset declared, set up once per worker process. */
  resources: R;
  /** The data versions of the upstream assets as this materialisation read them. */
  upstreamVersions: Record<string, string>;
  log: Logger;
  signal: AbortSignal;
}

export interface AssetSpec<R> {
  /** Unique key, `/`-separated path segments of `[a-z0-9_]` or a label name: `ec/products`, `graph/Product`. */
  key: string;
  /** Keys of the assets this one reads. */
  deps?: string[];
  /** Names of the resources `materialize` receives (each key of `R`). */
  resources?: (keyof R & string)[];
  group?: string;
  description?: string;
  /** Bump when the code's output changes: the asset (and what reads it) becomes stale. */
  codeVersion: string;
  /** Attempts before a failure is final (default 3); graphile-worker backs off between them. */
  retry?: { maxAttempts: number };
  materialize(ctx: MaterializeContext<R>): Promise<MaterializeResult>;
}

export interface AssetDefinition<R = any> extends Required<Omit<AssetSpec<R>, "description">> {
  description?: string;
}

/**
 * Declares an asset: something persistent (a Neo4j label, a relationship set, a Chroma collection,
 * a staging table) that a function materialises from its upstream assets.
 *
 * @example
 * export const productNodes = defineAsset<{ neo4j: Driver }>({
 *   key: "graph/Product",
 *   deps: ["ec/products"],
 *   resources: ["neo4j"],
 *   codeVersion: "1",
 *   async materialize({ resources }) {
 *     // … read the staged products, MERGE them …
 *     return { counts: { loaded: 120 } };
 *   },
 * });
 */
export function defineAsset<R = Record<string, never>>(spec: AssetSpec<R>): AssetDefinition<R> {
  return { deps: [], resources: [], retry: { maxAttempts: 3 }, group: spec.key.includes("/") ? spec.key.split("/")[0]! : "default", ...spec };
}
