import { defineAssetSensor } from "../engine/automation/asset-sensor.ts";

const sources = "group:ec or group:crm or group:chat";

/**
 * Eager automation: when source assets materialise (by a schedule, a file sensor or by hand), what
 * is downstream of them and now stale is materialised: graph labels and relationships, the
 * collections, and graph/Person, which resolves people across all three systems. An upstream that
 * kept its data version triggers nothing; while runs are still refreshing sources, it waits.
 */
export const eagerDownstream = defineAssetSensor({
  name: "eager_downstream",
  watch: sources,
  select: `(${sources})+ and not (${sources})`,
});
