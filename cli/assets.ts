import type { Command } from "commander";
import type { AssetDefinition } from "../engine/asset.ts";
import type { AssetGraph } from "../engine/asset-graph.ts";
import { selectAssets } from "../engine/selection.ts";
import { globals, loadGraph, output } from "./context.ts";
import { table } from "./table.ts";

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

/** Mermaid's flowchart: node ids cannot hold `/`, so each asset gets `a<n>` and its key as the label. */
export function mermaid(assets: AssetSummary[]): string {
  const id = new Map(assets.map((a, i) => [a.key, `a${i}`]));
  const lines = ["flowchart LR"];
  for (const [group, members] of Map.groupBy(assets, (a) => a.group)) {
    lines.push(`  subgraph ${group}`);
    for (const a of members) lines.push(`    ${id.get(a.key)}["${a.key}"]`);
    lines.push("  end");
  }
  for (const a of assets) {
    for (const dep of a.deps) if (id.has(dep)) lines.push(`  ${id.get(dep)} --> ${id.get(a.key)}`);
  }
  return lines.join("\n");
}

/** Graphviz DOT, one cluster per group, left to right. */
export function dot(assets: AssetSummary[]): string {
  const q = (s: string) => JSON.stringify(s);
  const keys = new Set(assets.map((a) => a.key));
  const lines = ["digraph assets {", "  rankdir=LR;", "  node [shape=box];"];
  for (const [group, members] of Map.groupBy(assets, (a) => a.group)) {
    lines.push(`  subgraph ${q(`cluster_${group}`)} {`, `    label=${q(group)};`);
    for (const a of members) lines.push(`    ${q(a.key)};`);
    lines.push("  }");
  }
  for (const a of assets) for (const dep of a.deps) if (keys.has(dep)) lines.push(`  ${q(dep)} -> ${q(a.key)};`);
  lines.push("}");
  return lines.join("\n");
}

/** `ingest assets [selection…]`. */
export async function assets(
  words: string[],
  options: { format: "table" | "json" | "mermaid" | "dot" },
  command: Command,
): Promise<void> {
  const graph = await loadGraph(globals(command).definitions);
  const summaries = summarise(graph, selectAssets(graph, words.length > 0 ? words.join(" ") : "*"));
  if (options.format === "mermaid") return console.log(mermaid(summaries));
  if (options.format === "dot") return console.log(dot(summaries));
  if (options.format === "json") return console.log(JSON.stringify(summaries, null, 2));
  output(command, summaries, () =>
    table([
      ["ASSET", "KIND", "WRITES", "CODE", "DEPENDS ON"],
      ...summaries.map((a) => [
        a.key,
        a.kind,
        a.writes,
        `v${a.codeVersion}${a.partitions ? ` [${a.partitions.split(":")[0]}]` : ""}`,
        a.deps.join(", "),
      ]),
    ]));
}
