/**
 * What {@link defineStreamSensor} takes. Checked with the rest of the project by `defineDefinitions`: a
 * bad name, a selection naming unknown assets or one that is not a stream asset is a `DefinitionError`
 * naming the sensor.
 */
export interface StreamSensorSpec {
  /** Unique among schedules and sensors: letters, digits and `_`. */
  name: string;
  /** What it is for, for people reading the definitions. */
  description?: string;
  /** The stream assets it keeps consumed (a selection of stream assets: `group:stream`). */
  streams: string;
  /**
   * What else a run of a stream with messages waiting materialises, besides that stream (a selection): by
   * default what is downstream of it, so a batch reaches the graph and the collections in the run that
   * consumed it.
   */
  select?: string;
  /** How often it asks the streams how far behind they are (default 200 ms). */
  intervalMs?: number;
  /** Tags of the runs it requests. */
  tags?: Record<string, string>;
}

/** A declared stream sensor, defaults filled in: what `defineStreamSensor` returns. */
export interface StreamSensorDefinition extends StreamSensorSpec {
  /** Always `stream-sensor`. */
  kind: "stream-sensor";
  /** As given, or 200. */
  intervalMs: number;
}

/**
 * Declares a sensor that keeps streams consumed: whenever a stream asset has messages waiting and no run
 * of this sensor is still going, it requests one run of the streams behind and what is downstream of them.
 * A run consumes one micro-batch per stream, so under a burst the runs follow one another, each taking
 * what came meanwhile: at 1,000 events/s it requests a few runs a second, not a thousand.
 *
 * @example
 * ```ts
 * export const liveStreams = defineStreamSensor({ name: "live_streams", streams: "group:stream" });
 * ```
 */
export function defineStreamSensor(spec: StreamSensorSpec): StreamSensorDefinition {
  return { ...spec, kind: "stream-sensor", intervalMs: spec.intervalMs ?? 200 };
}
