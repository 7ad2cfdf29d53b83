import type { Command } from "commander";
import { deadLetterCounts, listDeadLetters } from "../engine/dead-letters.ts";
import { replayDeadLetters, type Staging, stagingKind } from "../connectors/staging/index.ts";
import { ResourcePool } from "../engine/resource.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";

interface FilterOptions {
  asset?: string;
  run?: string;
  reason?: string;
  all?: boolean;
  limit: number;
  summary?: boolean;
}

/** `ingest dead-letters`. */
export async function list(options: FilterOptions, command: Command): Promise<void> {
  await using store = await openMetadata({ migrate: "if-behind" });
  if (options.summary) {
    const counts = await deadLetterCounts(store.db, options.run);
    output(
      command,
      counts,
      () =>
        counts.map((c) => `${String(c.count).padStart(8)}  ${c.assetKey}  ${c.reason}`).join("\n") ||
        "no open dead letters",
    );
    return;
  }
  const letters = await listDeadLetters(store.db, {
    assetKey: options.asset,
    runId: options.run,
    reason: options.reason,
    status: options.all ? "all" : "open",
    limit: options.limit,
  });
  output(command, letters, () =>
    letters
      .map((d) =>
        `#${d.id} ${d.assetKey} ${d.source}${d.sourceKey ? ` ${d.sourceKey}` : ""}  ${d.reason}${
          d.status === "replayed" ? " (replayed)" : ""
        }  run ${d.runId}\n    ${d.issues.map((i) => `${i.path}: ${i.message}`).join("\n    ")}\n    ${
          JSON.stringify(d.payload).slice(0, 200)
        }`
      )
      .join("\n") || "no dead letters");
}

/** `ingest dead-letters replay`. */
export async function replay(
  options: Omit<FilterOptions, "limit" | "all" | "summary">,
  command: Command,
): Promise<void> {
  const graph = await loadGraph(globals(command).definitions);
  await using store = await openMetadata();
  await using resources = new ResourcePool(graph.definitions.resources);
  const staging = (await resources.get(stagingKind)) as Staging;
  const result = await replayDeadLetters(store.db, graph, staging, {
    assetKey: options.asset,
    runId: options.run,
    reason: options.reason,
  });
  output(
    command,
    result,
    () =>
      `replay run ${result.runId}: ${result.replayed} replayed and staged, ${result.stillFailing} still failing, ${result.skipped} not replayable. Run \`ingest materialize --stale\` to load what changed.`,
  );
}
