import type { AssetDefinition } from "./asset.ts";
import type { AssetGraph } from "./asset-graph.ts";

/** An asset as `ingest assets` lists it (and `--json` / `--format json` gives it). */
export interface AssetSummary {
  key: string;
  group: string;
  /** The asset kind's target (`staging-table`, `neo4j-nodes`, `neo4j-relationships`, `chroma-collection`), or `asset`. */
  kind: string;
  /** What it writes, as people read it: `(:Product {sku})`, `(:Customer)-[:PLACED]->(:Order)`, `collection products`. */
  writes: string;
  deps: string[];
  /** The assets that read it. */
  dependents: string[];
  codeVersion: string;
  /** `static:a,b` or the time partitioning (`daily:2026-01-01:Europe/Berlin`); absent when unpartitioned. */
  partitions?: string;
  description?: string;
}

function writes(asset: AssetDefinition): string {
  const target = asset.target ?? { kind: "asset" };
  const end = (value: unknown) => `(:${(value as { label?: string }).label ?? "?"})`;
  switch (target.kind) {
    case "staging-table":
      return `staging.${target.table}`;
    case "neo4j-nodes":
      return `(:${target.label} {${target.keyProperty}})`;
    case "neo4j-relationships":
      return `${end(target.start)}-[:${target.type}]->${end(target.end)}`;
    case "chroma-collection":
      return `collection ${target.collection}`;
    default:
      return "";
  }
}

/** The selected assets as `ingest assets --json` and the UI list them, in the graph's order. */
export function summarise(graph: AssetGraph, keys: Iterable<string>): AssetSummary[] {
  const selected = new Set(keys);
  return graph.order.filter((key) => selected.has(key)).map((key) => {
    const asset = graph.byKey.get(key)!;
    return {
      key,
      group: asset.group,
      kind: asset.target?.kind ?? "asset",
      writes: writes(asset),
      deps: asset.deps,
      dependents: graph.dependents.get(key) ?? [],
      codeVersion: asset.codeVersion,
      ...(asset.partitions && { partitions: asset.partitions.id }),
      ...(asset.description && { description: asset.description }),
    };
  });
}
