import type { Logger } from "../resources/logger.ts";
import type { ResourceNeed } from "./resource.ts";
import type { DeadLetterInput } from "./dead-letters.ts";
import type { FreshnessPolicy } from "./freshness.ts";
import type { PartitionsDefinition } from "./partitions.ts";

/**
 * What a materialisation reports back; the engine records it with the run.
 *
 * @example
 * ```ts
 * return { counts: { extracted: 120, loaded: 118, deduplicated: 2 }, metadata: { source: "shop.products" } };
 * ```
 */
export interface MaterializeResult {
  /**
   * Record counts, e.g. `{ extracted, loaded, deadLettered }`. When `extracted` is given, the engine
   * fills in `deadLettered` (what `ctx.deadLetter` recorded), `loaded` and `deduplicated` (0 when
   * missing) and fails the materialisation unless extracted = loaded + deadLettered + deduplicated.
   */
  counts?: Record<string, number>;
  /** Anything worth showing with the materialisation (JSON-serialisable). */
  metadata?: Record<string, unknown>;
  /**
   * The extract read only part of its source (an incremental read of what changed): open dead letters of
   * earlier runs stay open, as their records were not read again. After a whole read they are superseded.
   */
  partialExtract?: boolean;
  /**
   * A hash of what the asset now holds. When two materialisations report the same data version,
   * downstream assets are not stale. Defaults to a hash of `counts` and `metadata`.
   */
  dataVersion?: string;
}

/**
 * What `materialize` (and an asset check) receives: the run, the asset, its resources and a way to
 * dead-letter records. `R` is the asset's resources by the names it declared.
 *
 * @example
 * ```ts
 * async materialize({ resources: { neo4j }, runId, upstreamVersions, log }) {
 *   log.info({ upstreamVersions }, "linking persons");
 *   await neo4j.executeQuery("MATCH (c:Customer) MERGE (p:Person {email: c.email}) SET p.ingestRunId = $runId", { runId });
 *   return { dataVersion: versionHash(JSON.stringify(upstreamVersions)) };
 * }
 * ```
 */
export interface MaterializeContext<R> {
  /**
   * The run this materialisation serves (the first of them, when one job serves several runs that
   * asked for the same asset partition): what lineage properties and dead letters record.
   */
  runId: string;
  /** The key of the asset being materialised. */
  assetKey: string;
  /** The partition being materialised, for partitioned assets. */
  partitionKey?: string;
  /** The resources this asset declared, set up once per worker process. */
  resources: R;
  /** The data versions of the upstream assets as this materialisation read them. */
  upstreamVersions: Record<string, string>;
  /** A pino logger bound to the runs, the asset, the partition and the attempt; credentials are redacted. */
  log: Logger;
  /**
   * Aborted when every run this materialisation serves was canceled, or when its job was given to
   * another worker (a worker that stopped or was taken for dead): long loops should check it and stop.
   */
  signal: AbortSignal;
  /**
   * Records a record that cannot be loaded, with the reason and the raw payload, in the dead-letter
   * table. When an asset reports `extracted`, the engine checks that
   * extracted = loaded + deadLettered + deduplicated, and fills `deadLettered` in.
   */
  deadLetter(letter: DeadLetterInput): Promise<void>;
  /**
   * Writes the dead letters recorded so far on `client`, a connection to the metadata store's database in
   * a transaction of the asset's, so they commit with what it commits there or not at all (a stream asset
   * moves its position in that transaction: a batch repeated after a crash must not dead-letter twice).
   * Without it they are written when the materialisation succeeds.
   */
  commitDeadLettersWith(
    client: {
      /** Runs a statement with its `$1`, `$2`… values in the transaction: a `pg.PoolClient` has it. */
      query(text: string, values: readonly unknown[]): Promise<{ rows: unknown[] }>;
    },
  ): Promise<void>;
  /**
   * The runs this materialisation serves (one job can serve several that asked for the same asset
   * partition) with their tags: a file sensor's run carries `ingest/file`, the file that landed.
   */
  runs(): Promise<{ runId: string; tags: Record<string, string> }[]>;
  /**
   * Reports how far the materialisation has got: records done so far and, when known, how many in
   * all. Cheap to call often (it is written at most once a second); `ingest materialize --wait`
   * shows it as progress, with records per second and an estimate of the time left.
   */
  progress(done: number, total?: number): void;
}

/**
 * What an asset's `observe` receives: the asset's key, its resources (as `materialize` gets them), a
 * logger and a signal aborted when the observation takes too long (10 s).
 */
export interface ObserveContext<R> {
  /** The asset being observed. */
  assetKey: string;
  /** The resources the asset declared. */
  resources: R;
  /** A pino logger bound to the asset. */
  log: Logger;
  /** Aborted when the observation has taken too long: a query should be given it, or be quick. */
  signal: AbortSignal;
}

/** How far behind the consumption of a stream is: what a stream asset's `lag` reports. */
export interface SourceLag {
  /** Messages sent and not yet consumed. */
  messages: number;
  /** Age (ms) of the oldest of them, when known; null when there are none or the source cannot say. */
  oldestAgeMs: number | null;
}

/** What an asset's `observe` reports: a version text, or a small object of facts compared as canonical JSON. */
export type ObservedVersion = string | Record<string, unknown>;

/** How often and how patiently a failed materialisation is tried again. */
export interface RetryPolicy {
  /** Attempts in all, the first included (default 3). */
  maxAttempts: number;
  /** Delay before the second attempt (default 1 s); each later one is `factor` times longer. */
  initialDelayMs?: number;
  /** Each delay is this many times the one before (default 2). */
  factor?: number;
  /** No delay is longer than this, in milliseconds, before jitter (default 60 000). */
  maxDelayMs?: number;
  /** Each delay is spread by up to ± this fraction (default 0.2), so retries of many assets do not land together. */
  jitter?: number;
}

/**
 * A data quality check run after each successful materialisation of an asset, with what it
 * reported; the result is recorded with the materialisation. A check that throws counts as failed,
 * with the error in its metadata.
 *
 * @example
 * ```ts
 * checks: [{
 *   name: "nothing dead-lettered",
 *   severity: "warn",
 *   check: async ({ result }) => ({ passed: (result.counts?.deadLettered ?? 0) === 0 }),
 * }],
 * ```
 */
export interface AssetCheck<R> {
  /** Names the check in the results (`ingest status`, the `ingest.asset_checks` table). */
  name: string;
  /** What the check guards against, recorded with each result. */
  description?: string;
  /** `error` fails the step (and skips what is downstream); `warn` (default) only records the result. */
  severity?: "warn" | "error";
  /** Whether the data passes, with anything worth recording beside the verdict. */
  check(
    ctx: MaterializeContext<R> & { result: MaterializeResult },
  ): Promise<{ passed: boolean; metadata?: Record<string, unknown> }>;
}

/**
 * What an asset writes, as the connector that defined it describes it: `{ kind: "neo4j-nodes",
 * label: "Product", keyProperty: "productId" }`. `ingest lineage --node` and the UI read it.
 */
export interface AssetTarget {
  /** The kind of store written: `neo4j-nodes`, `neo4j-relationships`, `chroma-collection`, `staging-table`. */
  kind: string;
  /** What the kind needs to find the data: a label and key property, a collection name, a table. */
  readonly [detail: string]: unknown;
}

/**
 * What `defineAsset` takes: an asset's key, its upstream assets, the resources it uses and the
 * function that materialises it. `R` is the resources `materialize` receives, by name.
 *
 * @example
 * ```ts
 * const spec: AssetSpec<{ neo4j: Driver }> = {
 *   key: "graph/Person",
 *   codeVersion: "1",
 *   deps: ["graph/Customer", "graph/Contact"],
 *   resources: ["neo4j"],
 *   async materialize({ resources: { neo4j } }) {
 *     await neo4j.executeQuery("MATCH (p:Person) WHERE NOT (p)--() DELETE p");
 *     return {};
 *   },
 * };
 * ```
 */
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
  /**
   * The group the asset belongs to, for selections (`group:ec`) and per-group concurrency limits.
   * Default: the key's first segment (`ec` for `ec/products`), or `default` for a key of one segment.
   */
  group?: string;
  /** What the asset holds, shown by `ingest assets`. */
  description?: string;
  /** Bump when the code's output changes: the asset (and what reads it) becomes stale. */
  codeVersion: string;
  /** Materialise one partition at a time: static keys, or daily/hourly windows in a time zone. */
  partitions?: PartitionsDefinition;
  /** How a failed materialisation is tried again (default: 3 attempts in all, the second 1 s after the first). */
  retry?: RetryPolicy;
  /** Data quality checks run after each materialisation; their results are recorded with it. */
  checks?: AssetCheck<R>[];
  /**
   * How fresh it must be: `{ maxLagMinutes: 90 }` (its latest successful materialisation at most 90
   * minutes old) or `{ cron: "0 6 * * *", timezone: "Europe/Berlin" }` (by each tick, materialised since
   * the tick before). `ingest status` shows whether it is met; `ingest daemon` alerts when it is missed.
   */
  freshness?: FreshnessPolicy;
  /**
   * What the asset writes, for lineage (`ingest lineage --node`) and for relationship assets, which
   * name the node asset of each end: a custom asset writing Neo4j nodes declares
   * `{ kind: "neo4j-nodes", label, keyProperty }`.
   */
  target?: AssetTarget;
  /**
   * Makes the asset an observable source (Dagster's observable source assets): a cheap version of what
   * it would extract, read without extracting it — `max(updated_at)` and a row count, a file's size and
   * time, an API's latest change. `ingest status`, `ingest observe` and `materialize --stale` ask for it;
   * when it differs from the version its latest materialisation saw, the asset is stale ("source
   * changed") and so is what reads it. Each materialisation observes first and records what it saw.
   * It should take well under a second; after 10 s it counts as failed, which changes nothing.
   *
   * @example
   * ```ts
   * observe: async ({ resources: { shop } }) =>
   *   (await shop.query("select max(updated_at) as latest, count(*)::int as n from shop.orders")).rows[0],
   * ```
   */
  observe?(ctx: ObserveContext<R>): Promise<ObservedVersion>;
  /**
   * For an asset fed by a stream (`defineStreamAsset`): how many messages wait to be consumed, and how old
   * the oldest is (`withAge`: which may cost a read). Stream sensors ask it several times a second and
   * `ingest status` shows it; an asset with it is what a stream sensor may watch.
   */
  lag?(ctx: ObserveContext<R>, withAge: boolean): Promise<SourceLag>;
  /**
   * Builds the asset from its upstream assets. A throw fails the attempt: it is retried by `retry`,
   * then the step fails and what is downstream of it is skipped.
   */
  materialize(ctx: MaterializeContext<R>): Promise<MaterializeResult>;
}

/**
 * A declared asset, defaults filled in: what every `define…Asset` returns and what
 * `defineDefinitions` takes in `assets`.
 *
 * @example
 * ```ts
 * const keys = definitions.assets.map((asset: AssetDefinition) => `${asset.group}: ${asset.key}`);
 * ```
 */
// deno-lint-ignore no-explicit-any -- an asset of any resources, as the graph holds them
export interface AssetDefinition<R = any> extends AssetSpec<R> {
  /** Keys of the assets this one reads (none by default). */
  deps: string[];
  /** The resources `materialize` receives (none by default). */
  resources: ResourceNeed<keyof R & string>[];
  /** The group, as given or from the key's first segment. */
  group: string;
  /** The retry policy, `maxAttempts` 3 unless given. */
  retry: RetryPolicy;
  /** The checks run after each materialisation (none by default). */
  checks: AssetCheck<R>[];
}

/**
 * Declares an asset: something persistent (a Neo4j label, a relationship set, a Chroma collection,
 * a staging table) that a function materialises from its upstream assets. Use it for what the asset
 * kinds (`defineStagedAsset`, `defineNodeAsset`, …) do not cover; it fills in the defaults and checks
 * nothing itself: keys, dependencies and resources are checked by `defineDefinitions`, which throws a
 * {@link DefinitionError} naming the asset.
 *
 * @example
 * ```ts
 * export const persons = defineAsset<{ neo4j: Driver }>({
 *   key: "graph/Person",
 *   group: "graph",
 *   codeVersion: "1",
 *   deps: [customerNodes.key, contactNodes.key],
 *   resources: ["neo4j"],
 *   target: { kind: "neo4j-nodes", label: "Person", keyProperty: "email" },
 *   async materialize({ resources: { neo4j }, upstreamVersions }) {
 *     await neo4j.executeQuery("MATCH (c:Customer) MERGE (p:Person {email: c.email}) MERGE (p)-[:IS]->(c)");
 *     // What it builds is a function of what it read.
 *     return { dataVersion: versionHash(JSON.stringify(upstreamVersions)) };
 *   },
 * });
 * ```
 */
export function defineAsset<R = Record<string, never>>(spec: AssetSpec<R>): AssetDefinition<R> {
  return {
    deps: [],
    resources: [],
    checks: [],
    group: spec.key.includes("/") ? spec.key.split("/")[0]! : "default",
    // A field given as undefined keeps its default (`deps: undefined` is no dependencies, not a crash).
    ...Object.fromEntries(Object.entries(spec).filter(([, value]) => value !== undefined)) as AssetSpec<R>,
    retry: { maxAttempts: 3, ...spec.retry },
  };
}

/**
 * The wait in milliseconds before attempt `attempt + 1`, after `attempt` failures: `initialDelayMs`
 * (default 1 000) times `factor` (default 2) per earlier failure, capped at `maxDelayMs` (default
 * 60 000), then spread by ± `jitter` (default 0.2). Never negative.
 *
 * @example
 * ```ts
 * retryDelayMs({ maxAttempts: 5, initialDelayMs: 500 }, 3, () => 0.5); // 2000: 500 × 2², no jitter at 0.5
 * ```
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const base = Math.min(
    (policy.initialDelayMs ?? 1_000) * (policy.factor ?? 2) ** Math.max(0, attempt - 1),
    policy.maxDelayMs ?? 60_000,
  );
  const jitter = policy.jitter ?? 0.2;
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
}

/**
 * The fields an asset kind (a connector's `define…Asset`) passes through to `defineAsset` unchanged:
 * `key`, `group`, `description`, `codeVersion`, `retry`, `checks`, `partitions`, `freshness` and `observe`, documented
 * on {@link AssetSpec}.
 */
export type AssetKindSpec<R> = Pick<
  AssetSpec<R>,
  "key" | "group" | "description" | "codeVersion" | "retry" | "checks" | "partitions" | "freshness" | "observe"
>;

/**
 * A mistake in a project's definitions, reported when they load: its message names the asset (or
 * schedule, sensor) and what is wrong, one problem a line.
 *
 * @example
 * ```ts
 * try {
 *   defineDefinitions({ assets, resources });
 * } catch (error) {
 *   if (error instanceof DefinitionError) console.error(error.message); // "asset 'graph/Book' depends on unknown asset 'shop/book'"
 *   else throw error;
 * }
 * ```
 */
export class DefinitionError extends Error {
  /** Always `"DefinitionError"`, which logs and `--json` output show. */
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
