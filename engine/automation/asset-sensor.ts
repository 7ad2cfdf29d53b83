/**
 * What {@link defineAssetSensor} takes. Checked with the rest of the project by `defineDefinitions`: a
 * bad name or a selection naming unknown assets is a `DefinitionError` naming the sensor.
 */
export interface AssetSensorSpec {
  /** Unique among schedules and sensors: letters, digits and `_`. */
  name: string;
  /** What it is for, for people reading the definitions. */
  description?: string;
  /** The upstream assets whose new successful materialisations trigger it (a selection). */
  watch: string;
  /** What it then materialises (a selection). */
  select: string;
  /** Only what is stale, and what turns out stale downstream of it (default true): an upstream that kept its data version triggers nothing. */
  staleOnly?: boolean;
  /**
   * Wait while a run is still materialising a watched asset (default true), so a run that refreshes
   * several upstreams one after another triggers one downstream run, not one per upstream.
   */
  waitForUpstreamRuns?: boolean;
  /** How often it looks for new materialisations (default 500 ms). */
  intervalMs?: number;
  /** Tags of the runs it requests. */
  tags?: Record<string, string>;
}

/** A declared asset sensor, defaults filled in: what `defineAssetSensor` returns. */
export interface AssetSensorDefinition extends AssetSensorSpec {
  /** Always `asset-sensor`. */
  kind: "asset-sensor";
  /** As given, or true. */
  staleOnly: boolean;
  /** As given, or true. */
  waitForUpstreamRuns: boolean;
  /** As given, or 500. */
  intervalMs: number;
}

/**
 * Declares a sensor on upstream materialisations: when a watched asset materialises, materialise
 * the selection if it is stale. The basis of eager automation. It only fills in defaults;
 * `defineDefinitions` checks it.
 *
 * @example Everything downstream of the sources, whenever a source materialises
 * ```ts
 * const sources = "group:ec or group:crm or group:chat";
 * export const eagerDownstream = defineAssetSensor({
 *   name: "eager_downstream",
 *   watch: sources,
 *   select: `(${sources})+ and not (${sources})`,
 * });
 * ```
 *
 * @example
 * ```ts
 * export const eagerPerson = defineAssetSensor({
 *   name: "eager_person",
 *   watch: "graph/Customer graph/Contact graph/ChatSession",
 *   select: "graph/Person",
 * });
 * ```
 */
export function defineAssetSensor(spec: AssetSensorSpec): AssetSensorDefinition {
  return {
    ...spec,
    kind: "asset-sensor",
    staleOnly: spec.staleOnly ?? true,
    waitForUpstreamRuns: spec.waitForUpstreamRuns ?? true,
    intervalMs: spec.intervalMs ?? 500,
  };
}
