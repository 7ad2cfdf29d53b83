export interface AssetSensorSpec {
  /** Unique among schedules and sensors: letters, digits and `_`. */
  name: string;
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
  tags?: Record<string, string>;
}

export interface AssetSensorDefinition extends AssetSensorSpec {
  kind: "asset-sensor";
  staleOnly: boolean;
  waitForUpstreamRuns: boolean;
  intervalMs: number;
}

/**
 * Declares a sensor on upstream materialisations: when a watched asset materialises, materialise
 * the selection if it is stale. The basis of eager automation.
 *
 * @example
 * export const eagerPerson = defineAssetSensor({
 *   name: "eager_person",
 *   watch: "graph/Customer graph/Contact graph/ChatSession",
 *   select: "graph/Person",
 * });
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
