import type { Migration } from "kysely/migration";
import * as runsAndMaterializations from "./0001_runs_and_materializations.ts";
import * as automation from "./0004_automation.ts";

/** Every migration, in order. Listed statically so the same code runs on Node and Deno without a file scan. */
export const migrations: Record<string, Migration> = {
  "0001_runs_and_materializations": runsAndMaterializations,
  "0004_automation": automation,
};
