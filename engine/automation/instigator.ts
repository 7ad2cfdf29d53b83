import type { AssetSensorDefinition } from "./asset-sensor.ts";
import type { FileSensorDefinition } from "./file-sensor.ts";
import type { ScheduleDefinition } from "./schedule.ts";
import type { StreamSensorDefinition } from "./stream-sensor.ts";

/** Schedules and sensors are instigators: what the daemon evaluates to request runs. */
export type SensorDefinition = FileSensorDefinition | AssetSensorDefinition | StreamSensorDefinition;
export type InstigatorDefinition = ScheduleDefinition | SensorDefinition;
