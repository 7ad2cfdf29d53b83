import type { Migration } from "kysely/migration";
import * as runsAndMaterializations from "./0001_runs_and_materializations.ts";
import * as runQueue from "./0003_run_queue.ts";
import * as automation from "./0004_automation.ts";
import * as functionsFromOnePlace from "./0005_functions_from_one_place.ts";
import * as alerts from "./0006_alerts.ts";
import * as stepProgress from "./0007_step_progress.ts";
import * as lighterSteps from "./0008_lighter_steps.ts";
import * as uiNotify from "./0009_ui_notify.ts";
import * as observations from "./0010_observations.ts";
import * as webhookDeliveries from "./0011_webhook_deliveries.ts";
import * as streamSensors from "./0012_stream_sensors.ts";

/**
 * Every migration, in order. Listed statically so the same code runs on Node and Deno without a file
 * scan. A migration that has shipped is never edited (test/unit/migrations.test.ts holds each to the
 * SQL recorded in db/shipped-migrations.json): a change is a new migration.
 */
export const migrations: Record<string, Migration> = {
  "0001_runs_and_materializations": runsAndMaterializations,
  "0003_run_queue": runQueue,
  "0004_automation": automation,
  "0005_functions_from_one_place": functionsFromOnePlace,
  "0006_alerts": alerts,
  "0007_step_progress": stepProgress,
  "0008_lighter_steps": lighterSteps,
  "0009_ui_notify": uiNotify,
  "0010_observations": observations,
  "0011_webhook_deliveries": webhookDeliveries,
  "0012_stream_sensors": streamSensors,
};
