import type { Command } from "commander";
import { deadLetterCounts, listDeadLetters } from "../engine/dead-letters.ts";
import { replayDeadLetters, type Staging, stagingKind } from "../connectors/staging/index.ts";
import { ResourcePool } from "../engine/resource.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";
import { wholeNumber } from "./options.ts";

interface FilterOptions {
  asset?: string;
  run?: string;
  reason?: string;
  all?: boolean;
  limit: number;
  summary?: boolean;
}

export function registerDeadLetters(program: Command): void {
  const deadLetters = program
    .command("dead-letters")
    .description("records that could not be loaded: asset, source, source key, reason, issues and payload")
    .option("-a, --asset <key>", "only this asset's")
    .option("-r, --run <id>", "only this run's")
    .option("--reason <reason>", "only this reason (invalid, unparseable, …)")
    .option("--all", "include the ones replayed, or superseded by a later run")
    .option("--summary", "counts by asset and reason")
    .option("-n, --limit <n>", "at most this many", wholeNumber(1), 50)
    .action(async (options: FilterOptions, command: Command) => {
      await using store = await openMetadata();
      if (options.summary) {
        const counts = await deadLetterCounts(store.db, options.run);
        output(
          command,
          counts,
          () =>
            counts.map((c) => `${String(c.count).padStart(8)}  ${c.asset_key}  ${c.reason}`).join("\n") ||
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
            `#${d.id} ${d.asset_key} ${d.source}${d.source_key ? ` ${d.source_key}` : ""}  ${d.reason}${
              d.status === "replayed" ? " (replayed)" : ""
            }  run ${d.run_id}\n    ${d.issues.map((i) => `${i.path}: ${i.message}`).join("\n    ")}\n    ${
              JSON.stringify(d.payload).slice(0, 200)
            }`
          )
          .join("\n") || "no dead letters");
    });
  deadLetters
    .command("replay")
    .description("put open dead letters through the current model again; those that pass are staged")
    .option("-a, --asset <key>", "only this asset's")
    .option("-r, --run <id>", "only this run's")
    .option("--reason <reason>", "only this reason")
    .action(async (options: Omit<FilterOptions, "limit" | "all" | "summary">, command: Command) => {
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
    });
}
