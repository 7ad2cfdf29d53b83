import { type AssetDefinition, DefinitionError } from "./asset.ts";
import { type AssetGraph, buildAssetGraph, type GraphInput } from "./asset-graph.ts";
import type { SensorDefinition } from "./automation/instigator.ts";
import type { ScheduleDefinition } from "./automation/schedule.ts";
import { automationProblems } from "./automation/validate.ts";

/** A project: its assets, the resources they use, its schedules and sensors, and the run queue's limits. */
export interface Definitions extends GraphInput {
  assets: AssetDefinition[];
  /** Cron schedules, run by `ingest daemon`. */
  schedules?: ScheduleDefinition[];
  /** File and asset sensors, run by `ingest daemon`. */
  sensors?: SensorDefinition[];
}

/**
 * Gathers a project's assets, resources, schedules and sensors and checks them as a whole, so a mistake is reported at
 * load time with the assets it concerns, not halfway through a run.
 *
 * @example
 * export default defineDefinitions({
 *   assets: [stagedProducts, productNodes, productVectors],
 *   resources: { neo4j, chroma, embedder, shop },
 *   schedules: [nightly],
 *   sensors: [webhookFiles, eagerPerson],
 * });
 */
export function defineDefinitions(definitions: Definitions): Definitions {
  assetGraphOf(definitions);
  return definitions;
}

/** The asset graph of a project, with its schedules and sensors checked against it; the problems found name what they concern. */
export function assetGraphOf(definitions: Definitions): AssetGraph<Definitions> {
  const graph = buildAssetGraph(definitions);
  const problems = automationProblems(graph, [...(definitions.schedules ?? []), ...(definitions.sensors ?? [])]);
  if (problems.length > 0) throw new DefinitionError(problems.join("\n"));
  return graph;
}
