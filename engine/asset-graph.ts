import { type AssetDefinition, DefinitionError } from "./asset.ts";
import { freshnessProblems } from "./freshness.ts";
import { resolveResource, type ResourceDefinition } from "./resource.ts";

/**
 * What the asset graph is built from: the assets, the resources they receive, and the run queue's
 * limits. {@link Definitions} adds the schedules and sensors.
 */
export interface GraphInput {
  /** Every asset of the project; keys must be unique. */
  assets: AssetDefinition[];
  /**
   * The resources by the name assets receive them under: `{ neo4j: neo4jResource(), shop:
   * postgresResource(…) }`. Each is set up once per worker process, on first use.
   */
  // deno-lint-ignore no-explicit-any -- resources of any type, each asset names the ones it receives
  resources: Record<string, ResourceDefinition<any>>;
  /**
   * Limits over every worker on the database: `global: 8` runs at most eight materialisations at
   * once in all; `groups: { embeddings: 2 }` at most two of group `embeddings` (each worker's
   * `--concurrency` applies as well).
   */
  concurrency?: {
    /** Materialisations running at once over all workers: a whole number ≥ 1 (default unlimited). */
    global?: number;
    /** Per group: materialisations of its assets running at once; each group must have an asset. */
    groups?: Record<string, number>;
  };
}

/**
 * A project's assets as a checked graph: by key, with their dependents and a topological order.
 * What selections, planning, status and the worker work on.
 *
 * @example
 * ```ts
 * const graph = buildAssetGraph(definitions);
 * for (const key of graph.order) console.log(key, "->", graph.dependents.get(key));
 * ```
 */
export interface AssetGraph<D extends GraphInput = GraphInput> {
  /** What the graph was built from (a project's definitions). */
  definitions: D;
  /** Every asset by its key. */
  byKey: Map<string, AssetDefinition>;
  /** Downstream keys of each asset. */
  dependents: Map<string, string[]>;
  /** Every key, upstream before downstream. */
  order: string[];
}

const assetKey = /^[A-Za-z0-9_]+(\/[A-Za-z0-9_]+)*$/;

/**
 * The assets as a graph, checked: keys, dependencies, resources, freshness targets, concurrency limits
 * and cycles. Every problem found is reported at once in one {@link DefinitionError}, a line each, naming
 * the assets. `defineDefinitions` calls it (and checks the schedules, sensors and alerts too); call it
 * yourself for a graph of assets alone, in tests say.
 *
 * @example
 * ```ts
 * const graph = buildAssetGraph({ assets: [stagedProducts, productNodes], resources: { staging: stagingResource(), neo4j: neo4jResource() } });
 * graph.order; // ["shop/products", "graph/Product"]
 * ```
 */
export function buildAssetGraph<D extends GraphInput>(definitions: D): AssetGraph<D> {
  const byKey = new Map<string, AssetDefinition>();
  const problems: string[] = [];
  for (const asset of definitions.assets) {
    if (!assetKey.test(asset.key)) {
      problems.push(`asset key '${asset.key}' is invalid: use segments of [A-Za-z0-9_] joined by '/'`);
    }
    if (byKey.has(asset.key)) problems.push(`asset key '${asset.key}' is declared twice`);
    byKey.set(asset.key, asset);
  }
  for (const asset of definitions.assets) {
    for (const dep of asset.deps) {
      if (!byKey.has(dep)) problems.push(`asset '${asset.key}' depends on unknown asset '${dep}'`);
    }
    for (const need of asset.resources) {
      const resolved = resolveResource(definitions.resources, need);
      if ("problem" in resolved) problems.push(`asset '${asset.key}' ${resolved.problem}`);
    }
    if (asset.freshness !== undefined) {
      for (const problem of freshnessProblems(asset.freshness)) problems.push(`asset '${asset.key}': ${problem}`);
    }
  }
  for (const [group, limit] of Object.entries(definitions.concurrency?.groups ?? {})) {
    if (!definitions.assets.some((a) => a.group === group)) {
      problems.push(`concurrency limit for group '${group}', which no asset belongs to`);
    }
    if (!Number.isInteger(limit) || limit < 1) {
      problems.push(`concurrency limit of group '${group}' must be a whole number ≥ 1, not ${limit}`);
    }
  }
  const global = definitions.concurrency?.global;
  if (global !== undefined && (!Number.isInteger(global) || global < 1)) {
    problems.push(`the global concurrency limit must be a whole number ≥ 1, not ${global}`);
  }
  if (problems.length > 0) throw new DefinitionError(problems.join("\n"));

  const dependents = new Map<string, string[]>([...byKey.keys()].map((key) => [key, []]));
  for (const asset of byKey.values()) for (const dep of asset.deps) dependents.get(dep)!.push(asset.key);
  return { definitions, byKey, dependents, order: topologicalOrder(byKey, dependents) };
}

/** Kahn's algorithm; what is left over lies on a cycle, which is then named in full. */
function topologicalOrder(byKey: Map<string, AssetDefinition>, dependents: Map<string, string[]>): string[] {
  const remaining = new Map([...byKey.values()].map((a) => [a.key, new Set(a.deps)]));
  const ready = [...remaining].filter(([, deps]) => deps.size === 0).map(([key]) => key);
  const order: string[] = [];
  while (ready.length > 0) {
    const key = ready.pop()!;
    order.push(key);
    remaining.delete(key);
    for (const next of dependents.get(key)!) {
      const deps = remaining.get(next)!;
      deps.delete(key);
      if (deps.size === 0) ready.push(next);
    }
  }
  if (remaining.size > 0) throw new DefinitionError(`dependency cycle: ${describeCycle(remaining)}`);
  return order;
}

function describeCycle(remaining: Map<string, Set<string>>): string {
  const start = remaining.keys().next().value!;
  const path = [start];
  const seen = new Set([start]);
  let current = start;
  for (;;) {
    const next = [...remaining.get(current)!].find((dep) => remaining.has(dep))!;
    if (seen.has(next)) return [...path.slice(path.indexOf(next)), next].join(" -> ");
    path.push(next);
    seen.add(next);
    current = next;
  }
}
