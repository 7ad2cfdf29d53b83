import type { Migration } from "kysely/migration";
import * as runsAndMaterializations from "./0001_runs_and_materializations.ts";
import * as runQueue from "./0003_run_queue.ts";
import * as automation from "./0004_automation.ts";

/** Every migration, in order. Listed statically so the same code runs on Node and Deno without a file scan. */
export const migrations: Record<string, Migration> = {
  "0001_runs_and_materializations": runsAndMaterializations,
  "0003_run_queue": runQueue,
  "0004_automation": automation,
};
