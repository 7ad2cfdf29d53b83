import type { WebhookSource } from "../connectors/webhooks/source.ts";
import { alertProblems, type AlertsConfig } from "./alerts/config.ts";
import { type AssetDefinition, DefinitionError } from "./asset.ts";
import { type AssetGraph, buildAssetGraph, type GraphInput } from "./asset-graph.ts";
import type { SensorDefinition } from "./automation/instigator.ts";
import type { ScheduleDefinition } from "./automation/schedule.ts";
import { automationProblems } from "./automation/validate.ts";

/**
 * A project: its assets, the resources they use, its schedules and sensors, and the run queue's
 * limits. What a project's `definitions.ts` exports by default, made by {@link defineDefinitions}.
 */
export interface Definitions extends GraphInput {
  /** Every asset of the project; keys must be unique. */
  assets: AssetDefinition[];
  /** Cron schedules, run by `ingest daemon`. */
  schedules?: ScheduleDefinition[];
  /** File and asset sensors, run by `ingest daemon`. */
  sensors?: SensorDefinition[];
  /**
   * Where `ingest daemon` sends alerts (webhooks, e-mail) about failed runs, dead letters past a threshold,
   * missed freshness targets and dead workers, and how; see {@link AlertsConfig}. The environment can add
   * channels (`INGEST_ALERT_WEBHOOK_URL`, `INGEST_ALERT_SMTP_URL`, …).
   */
  alerts?: AlertsConfig;
  /**
   * The webhook sources `ingest webhooks` serves, each at `POST /webhooks/<name>`, storing what they deliver
   * for stream assets to read; see {@link defineWebhookSource}.
   */
  webhookSources?: WebhookSource[];
}

/**
 * Gathers a project's assets, resources, schedules, sensors and alerts and checks them as a whole, so a mistake is
 * reported at load time with the assets it concerns, not halfway through a run. It throws one {@link DefinitionError}
 * listing every problem: an invalid or duplicate key, an unknown dependency, a cycle, a resource missing, ambiguous or
 * of the wrong kind, a bad concurrency limit, a freshness target's lag, cron or time zone, a schedule's cron or time
 * zone, a selection naming unknown assets, an alert channel's URL or address. Nothing connects
 * here: resources are set up when an asset first uses them. Returns `definitions` as given.
 *
 * @example
 * ```ts
 * export default defineDefinitions({
 *   assets: [stagedProducts, productNodes, productDocuments],
 *   resources: {
 *     staging: stagingResource(),
 *     neo4j: neo4jResource(),
 *     chroma: chromaResource(),
 *     embedder: embedderResource(),
 *     shop: postgresResource(() => process.env.SHOP_DATABASE_URL!, { setting: "SHOP_DATABASE_URL" }),
 *   },
 *   schedules: [nightly],
 *   sensors: [productsFileChanged],
 *   concurrency: { global: 8, groups: { search: 2 } },
 * });
 * ```
 */
export function defineDefinitions(definitions: Definitions): Definitions {
  assetGraphOf(definitions);
  return definitions;
}

/** The asset graph of a project, with its schedules and sensors checked against it; the problems found name what they concern. */
export function assetGraphOf(definitions: Definitions): AssetGraph<Definitions> {
  const graph = buildAssetGraph(definitions);
  const webhookNames = (definitions.webhookSources ?? []).map((source) => source.name);
  const problems = [
    ...automationProblems(graph, [...(definitions.schedules ?? []), ...(definitions.sensors ?? [])]),
    ...alertProblems(definitions.alerts),
    ...webhookNames.filter((name, i) => webhookNames.indexOf(name) !== i)
      .map((name) => `webhook source '${name}' is declared twice`),
  ];
  if (problems.length > 0) throw new DefinitionError(problems.join("\n"));
  return graph;
}
