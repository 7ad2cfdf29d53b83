import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Run, RunStep } from "../db/schema.ts";
import type { AssetGraph } from "./definitions.ts";
import { createRun, getRun, type MetadataStore, type PlannedStep, runSteps } from "./store.ts";

/** One step per selected asset, each waiting on its selected upstreams; in dependency order. */
export function plan(graph: AssetGraph, keys: Iterable<string>): PlannedStep[] {
  const selected = new Set(keys);
  return graph.order
    .filter((key) => selected.has(key))
    .map((key) => {
      const asset = graph.byKey.get(key)!;
      return {
        assetKey: key,
        partitionKey: "",
        upstream: asset.deps.filter((dep) => selected.has(dep)),
        maxAttempts: asset.retry.maxAttempts,
      };
    });
}

/** Plans and enqueues a run of the given assets; any worker on the same database executes it. */
export async function requestRun(db: MetadataStore, graph: AssetGraph, keys: Iterable<string>, selection: string): Promise<string> {
  const runId = randomUUID();
  await createRun(db, runId, selection, plan(graph, keys));
  return runId;
}

const finished = new Set(["succeeded", "failed", "canceled"]);

/** Resolves when the run has finished, with its final state and steps. */
export async function waitForRun(db: MetadataStore, runId: string, pollMs = 200): Promise<{ run: Run; steps: RunStep[] }> {
  for (;;) {
    const run = await getRun(db, runId);
    if (!run) throw new Error(`run ${runId} does not exist`);
    if (finished.has(run.status)) return { run, steps: await runSteps(db, runId) };
    await sleep(pollMs);
  }
}
