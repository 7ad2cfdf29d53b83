import type { Logger } from "../resources/logger.ts";
import type { ResourceNeed } from "./resource.ts";
import type { DeadLetterInput } from "./dead-letters.ts";
import type { PartitionsDefinition } from "./partitions.ts";

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
  /**
   * Records a record that cannot be loaded, with the reason and the raw payload, in the dead-letter
   * table. When an asset reports `extracted`, the engine checks that
   * extracted = loaded + deadLettered + deduplicated, and fills `deadLettered` in.
   */
  deadLetter(letter: DeadLetterInput): Promise<void>;
  /**
   * The runs this materialisation serves (one job can serve several that asked for the same asset
   * partition) with their tags: a file sensor's run carries `ingest/file`, the file that landed.
   */
  runs(): Promise<{ runId: string; tags: Record<string, string> }[]>;
}

/** How often and how patiently a failed materialisation is tried again. */
export interface RetryPolicy {
  /** Attempts in all, the first included (default 3). */
  maxAttempts: number;
  /** Delay before the second attempt (default 1 s); each later one is `factor` times longer. */
  initialDelayMs?: number;
  factor?: number;
  maxDelayMs?: number;
  /** Each delay is spread by up to ± this fraction (default 0.2), so retries of many assets do not land together. */
  jitter?: number;
}

export interface AssetCheck<R> {
  name: string;
  description?: string;
  /** `error` fails the step (and skips what is downstream); `warn` (default) only records the result. */
  severity?: "warn" | "error";
  check(
    ctx: MaterializeContext<R> & { result: MaterializeResult },
  ): Promise<{ passed: boolean; metadata?: Record<string, unknown> }>;
}

/**
 * What an asset writes, as the connector that defined it describes it: `{ kind: "neo4j-nodes",
 * label: "Product", keyProperty: "productId" }`. `ingest lineage --node` and the UI read it.
 */
export interface AssetTarget {
  kind: string;
  readonly [detail: string]: unknown;
}

export interface AssetSpec<R> {
  /** Unique key: `/`-separated segments of `[A-Za-z0-9_]`, such as `ec/products` or `graph/Product`. */
  key: string;
  /** Keys of the assets this one reads. */
  deps?: string[];
  /**
   * The resources `materialize` receives (each key of `R`): a name from the project's resources, or
   * the kind of resource needed under a name (`neo4jKind`), found by name or as the one of its kind.
   */
  resources?: ResourceNeed<keyof R & string>[];
  group?: string;
  description?: string;
  /** Bump when the code's output changes: the asset (and what reads it) becomes stale. */
  codeVersion: string;
  /** Materialise one partition at a time: static keys, or daily/hourly windows in a time zone. */
  partitions?: PartitionsDefinition;
  retry?: RetryPolicy;
  /** Data quality checks run after each materialisation; their results are recorded with it. */
  checks?: AssetCheck<R>[];
  target?: AssetTarget;
  materialize(ctx: MaterializeContext<R>): Promise<MaterializeResult>;
}

// deno-lint-ignore no-explicit-any -- an asset of any resources, as the graph holds them
export interface AssetDefinition<R = any> extends AssetSpec<R> {
  deps: string[];
  resources: ResourceNeed<keyof R & string>[];
  group: string;
  retry: RetryPolicy;
  checks: AssetCheck<R>[];
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
  return {
    deps: [],
    resources: [],
    checks: [],
    group: spec.key.includes("/") ? spec.key.split("/")[0]! : "default",
    ...spec,
    retry: { maxAttempts: 3, ...spec.retry },
  };
}

/** The wait before attempt `attempt + 1`, after `attempt` failures: exponential, capped, with jitter. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const base = Math.min(
    (policy.initialDelayMs ?? 1_000) * (policy.factor ?? 2) ** Math.max(0, attempt - 1),
    policy.maxDelayMs ?? 60_000,
  );
  const jitter = policy.jitter ?? 0.2;
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
}

/** The fields an asset kind (a connector's `define…Asset`) passes through to `defineAsset` unchanged. */
export type AssetKindSpec<R> = Pick<
  AssetSpec<R>,
  "key" | "group" | "description" | "codeVersion" | "retry" | "checks" | "partitions"
>;

/** A mistake in a project's definitions, reported when they load. */
export class DefinitionError extends Error {
  override name = "DefinitionError";
}

/** Runs an asset kind's checks of what it was given (identifiers, say) when it is defined, naming the asset in the error. */
export function checkAssetDefinition(assetKey: string, check: () => void): void {
  try {
    check();
  } catch (error) {
    throw new DefinitionError(`asset '${assetKey}': ${(error as Error).message}`);
  }
}
