import type { AssetDefinition, ObservedVersion } from "./asset.ts";
import type { AssetGraph } from "./asset-graph.ts";
import type { ResourcePool } from "./resource.ts";
import type { MetadataStore } from "../db/schema.ts";
import { canonicalJson } from "./canonical-json.ts";
import { logger as rootLogger } from "../resources/logger.ts";
import { redactText } from "../resources/redact.ts";
import { withSpan } from "../resources/spans.ts";

/** How long one observation may take before it counts as failed. */
const observeTimeoutMs = 10_000;

/** The latest observation of a source asset, as `ingest.observations` holds it. */
export interface Observation {
  /** The source asset. */
  assetKey: string;
  /** The version its source reported, or null when observing failed. */
  version: string | null;
  /** Why observing failed, when it did. */
  error: string | null;
  /** When. */
  observedAt: Date;
}

/** An observation as text: a string as it is, an object as canonical JSON, so equal facts are equal versions. */
export function observedVersionText(version: ObservedVersion): string {
  return typeof version === "string" ? version : canonicalJson(version);
}

/**
 * Asks one observable asset for its source's version now, within a time limit, under a span of its own.
 * Throws what `observe` threw, or a timeout naming the asset.
 */
export async function observeAsset(
  asset: AssetDefinition,
  resources: ResourcePool,
  signal?: AbortSignal,
): Promise<string> {
  const observe = asset.observe!;
  const limit = AbortSignal.timeout(observeTimeoutMs);
  const aborted = signal ? AbortSignal.any([signal, limit]) : limit;
  return await withSpan(`observe ${asset.key}`, { attributes: { "ingest.asset": asset.key } }, async (span) => {
    const observing = (async () =>
      observedVersionText(
        await observe({
          assetKey: asset.key,
          resources: await resources.pick(asset.resources),
          log: rootLogger.child({ asset: asset.key }),
          signal: aborted,
        }),
      ))();
    const timedOut = new Promise<never>((_, reject) =>
      aborted.addEventListener(
        "abort",
        () =>
          reject(
            limit.aborted
              ? new Error(`observing ${asset.key} took longer than ${observeTimeoutMs / 1000} s`)
              : aborted.reason,
          ),
        { once: true },
      )
    );
    timedOut.catch(() => {});
    const version = await Promise.race([observing, timedOut]);
    span.setAttribute("ingest.observed_version", version);
    return version;
  });
}

/** Records an observation (the latest per asset replaces the one before). */
export async function recordObservation(
  db: MetadataStore,
  assetKey: string,
  observed: { version: string } | { error: string },
): Promise<void> {
  const row = "version" in observed
    ? { asset_key: assetKey, version: observed.version, error: null }
    // An observation's error quotes the source it asked, as a step's does: stored redacted.
    : { asset_key: assetKey, version: null, error: redactText(observed.error) };
  await db.insertInto("ingest.observations").values(row)
    .onConflict((c) =>
      c.column("asset_key").doUpdateSet({ version: row.version, error: row.error, observed_at: new Date() })
    )
    .execute();
}

/**
 * Observes every observable asset among `keys` (those that declare `observe`) at once, and records what
 * each reported, or its error: what `ingest status`, `ingest observe` and `materialize --stale` do first,
 * so a source that changed shows as stale without being extracted. An observation that fails is recorded
 * and returned with its error; it never throws.
 *
 * @example
 * ```ts
 * await using resources = new ResourcePool(definitions.resources);
 * for (const o of await observeSources(db, graph, resources, selectAssets(graph, "*"))) {
 *   console.log(o.assetKey, o.version ?? `failed: ${o.error}`);
 * }
 * ```
 */
export async function observeSources(
  db: MetadataStore,
  graph: AssetGraph,
  resources: ResourcePool,
  keys: Iterable<string>,
): Promise<Observation[]> {
  const observable = [...new Set(keys)].map((key) => graph.byKey.get(key)).filter((a) => a?.observe !== undefined);
  return await Promise.all(observable.map(async (asset) => {
    const observed = await observeAsset(asset!, resources).then(
      (version) => ({ version }),
      (error: Error) => ({ error: redactText(error?.message ?? String(error)) }),
    );
    await recordObservation(db, asset!.key, observed);
    return {
      assetKey: asset!.key,
      version: "version" in observed ? observed.version : null,
      error: "error" in observed ? observed.error : null,
      observedAt: new Date(),
    };
  }));
}

/**
 * The latest observation of each of `keys` (every observed asset when not given), as recorded.
 *
 * @example
 * ```ts
 * const observed = await latestObservations(db, ["ec/orders"]);
 * console.log(observed.get("ec/orders")?.version ?? observed.get("ec/orders")?.error);
 * ```
 */
export async function latestObservations(
  db: MetadataStore,
  keys?: readonly string[],
): Promise<Map<string, Observation>> {
  if (keys?.length === 0) return new Map();
  let query = db.selectFrom("ingest.observations").selectAll();
  if (keys) query = query.where("asset_key", "in", [...keys]);
  const rows = await query.execute();
  return new Map(
    rows.map((r) => [r.asset_key, {
      assetKey: r.asset_key,
      version: r.version,
      error: r.error,
      observedAt: new Date(r.observed_at),
    }]),
  );
}
