import { randomBytes } from "node:crypto";
import { type AssetDefinition, defineAsset, type RetryPolicy } from "../engine/asset.ts";
import { type AssetGraph, buildAssetGraph } from "../engine/asset-graph.ts";
import type { PartitionsDefinition } from "../engine/partitions.ts";

/** How a test asset behaves on its next materialisations; tests change it between runs. */
export interface Behaviour {
  /** The data version it reports (default: "v1"). */
  dataVersion?: string;
  /** Fail this many more attempts before succeeding. */
  failures?: number;
  delayMs?: number;
}

export interface TestAssetSpec {
  deps?: string[];
  codeVersion?: string;
  partitions?: PartitionsDefinition;
  retry?: RetryPolicy;
  group?: string;
}

/**
 * Builds a graph of no-op assets under a fresh key prefix (the metadata store is shared between
 * tests), recording every materialisation they perform.
 */
export function testGraph(specs: Record<string, TestAssetSpec>) {
  const prefix = `t_${randomBytes(4).toString("hex")}`;
  const key = (name: string) => `${prefix}/${name}`;
  const behaviour = new Map<string, Behaviour>();
  const calls: {
    name: string;
    partitionKey?: string;
    runId: string;
    runs: { runId: string; tags: Record<string, string> }[];
  }[] = [];
  const build = (overrides: Record<string, Partial<TestAssetSpec>> = {}): AssetGraph => {
    const assets: AssetDefinition[] = Object.entries(specs).map(([name, base]) => {
      const spec = { ...base, ...overrides[name] };
      return defineAsset({
        key: key(name),
        group: spec.group ?? prefix,
        deps: (spec.deps ?? []).map(key),
        codeVersion: spec.codeVersion ?? "1",
        partitions: spec.partitions,
        retry: spec.retry ?? { maxAttempts: 1 },
        async materialize({ partitionKey, runId, runs }) {
          const b = behaviour.get(name) ?? {};
          if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
          calls.push({ name, partitionKey, runId, runs: await runs() });
          if (b.failures && b.failures > 0) {
            b.failures -= 1;
            throw new Error(`${name} failed on purpose`);
          }
          return {
            counts: { loaded: 1 },
            dataVersion: `${b.dataVersion ?? "v1"}${partitionKey ? `@${partitionKey}` : ""}`,
          };
        },
      });
    });
    return buildAssetGraph({ assets, resources: {} });
  };
  return { prefix, key, behaviour, calls, build, graph: build() };
}
