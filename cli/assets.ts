import type { Command } from "commander";
import { type AssetSummary, summarise } from "../engine/asset-summaries.ts";
import { selectAssets } from "../engine/selection.ts";
import { globals, loadGraph, output } from "./context.ts";
import { table } from "./table.ts";

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
