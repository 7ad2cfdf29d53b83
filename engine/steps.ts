/** A step is one asset, or one partition of a partitioned asset, within a run. */
export interface StepRef {
  assetKey: string;
  /** "" for an unpartitioned asset. */
  partitionKey: string;
}

/** `asset` or `asset:partition`; asset keys never contain `:`, so the first one splits them. */
export const stepKeyOf = (
  { assetKey, partitionKey }: StepRef,
) => (partitionKey ? `${assetKey}:${partitionKey}` : assetKey);

export function stepRefOf(stepKey: string): StepRef {
  const colon = stepKey.indexOf(":");
  return colon < 0
    ? { assetKey: stepKey, partitionKey: "" }
    : { assetKey: stepKey.slice(0, colon), partitionKey: stepKey.slice(colon + 1) };
}
