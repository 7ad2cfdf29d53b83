import type { Command } from "commander";
import { observeSources } from "../engine/observations.ts";
import { ResourcePool } from "../engine/resource.ts";
import { selectAssets } from "../engine/selection.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";
import { table } from "./table.ts";

/** `ingest observe [selection…]`: asks each observable source for its version now and records it. */
export async function observe(words: string[], _options: unknown, command: Command): Promise<void> {
  const graph = await loadGraph(globals(command).definitions);
  const keys = [...selectAssets(graph, words.length > 0 ? words.join(" ") : "*")];
  await using store = await openMetadata({ migrate: "if-behind" });
  await using resources = new ResourcePool(graph.definitions.resources);
  const observations = await observeSources(store.db, graph, resources, keys);
  output(
    command,
    observations,
    () =>
      observations.length === 0
        ? "no observable source among the selected assets (an asset is one when it declares observe)"
        : table([["asset", "observed"], ...observations.map((o) => [o.assetKey, o.version ?? `failed: ${o.error}`])], {
          header: true,
        }),
  );
  if (observations.some((o) => o.error !== null)) process.exitCode = 1;
}
