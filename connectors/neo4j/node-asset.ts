import { type AssetKindSpec, checkAssetDefinition, defineAsset } from "../../engine/asset.ts";
import { assertIdentifier } from "../identifiers.ts";
import { loadChanges } from "../staging/load-changes.ts";
import type { StagedRecord } from "../staging/records.ts";
import type { StagedAsset } from "../staging/staged-asset.ts";
import type { Staging } from "../staging/staging.ts";
import type { Driver } from "./driver.ts";
import { lineageProperties } from "./lineage.ts";
import type { NodeAsset, NodeTarget } from "./targets.ts";
import { removeNodes, sweepNodes } from "./remove.ts";
import { ensureIndex, ensureUniqueKey } from "./schema.ts";
import { mergeNodes } from "./write.ts";
import { neo4jKind } from "./resource.ts";
import { stagingKind } from "../staging/resource.ts";

/** The resources node and relationship assets receive: a Neo4j driver and the staging tables. */
export type GraphResources = {
  /** From `neo4jResource()`: found under the name `neo4j`, or as the project's one Neo4j resource. */
  neo4j: Driver;
  /** From `stagingResource()`: found under the name `staging`, or as the project's one staging resource. */
  staging: Staging;
};

/** Staged records read and written per page: one Postgres query, then the writer's own batches. */
export const graphPageSize = 20_000;

/**
 * What {@link defineNodeAsset} takes: the label, the key property and how a staged record becomes a
 * node's properties. `T` is the record type of the staged asset read (`from`). Labels and property
 * names are letters, digits and `_`, starting with a letter (they are spliced into Cypher).
 */
export interface NodeAssetSpec<T> extends AssetKindSpec<GraphResources> {
  /** The nodes' label, e.g. `Product`. */
  label: string;
  /**
   * The property that identifies a node (`productId`): nodes are MERGEd on it, under a uniqueness
   * constraint created if missing. A record whose properties lack it fails the materialisation.
   */
  keyProperty: string;
  /** Properties people look nodes up by: range indexes, created idempotently before loading. */
  indexes?: string[];
  /** Properties stored as Neo4j integers (JavaScript numbers are otherwise sent as floats). */
  integers?: string[];
  /** The staged asset whose records become nodes: a node per record; only changed records are written. */
  from: StagedAsset<T>;
  /**
   * The node's properties; must include `keyProperty`. They replace what the node held each time its record
   * is written, with lineage added (`ingestRunId`, `ingestAsset`, `ingestSource`, `ingestSourceKey`, `ingestContentHash`).
   */
  properties(record: T): Record<string, unknown>;
  /** More upstream assets beside `from`. */
  deps?: string[];
}

/**
 * A Neo4j label as an asset: nodes MERGEd on a uniqueness constraint (created if missing), one per
 * staged record, each carrying the run, asset and source record that wrote it. Only records that
 * changed since the last materialisation are written. A node belongs to its source record (found by
 * `ingestSourceKey`, which is indexed): when the record goes, or its key changes, the node it wrote
 * goes too, and the relationships of other assets that went with it wait in `staging.pending` until
 * their node is back, as in a full load.
 *
 * It needs a Neo4j resource (`neo4jResource()`) and a staging resource (`stagingResource()`), found by
 * name or as the project's one of each kind. An invalid label or property name throws a
 * `DefinitionError` naming the asset.
 *
 * @example
 * ```ts
 * export const productNodes = defineNodeAsset<Product>({
 *   key: "graph/Product",
 *   codeVersion: "2",
 *   label: "Product",
 *   keyProperty: "productId",
 *   indexes: ["sku"],
 *   from: stagedProducts,
 *   properties: (p) => ({ ...p }),
 * });
 * ```
 */
export function defineNodeAsset<T>(spec: NodeAssetSpec<T>): NodeAsset {
  checkAssetDefinition(spec.key, () => {
    assertIdentifier("label", spec.label);
    assertIdentifier("property key", spec.keyProperty);
    for (const property of [...(spec.indexes ?? []), ...(spec.integers ?? [])]) {
      assertIdentifier("property key", property);
    }
  });
  const keyOf = (s: StagedRecord<T>, props = spec.properties(s.record)) => {
    const key = props[spec.keyProperty];
    if (key === undefined || key === null) {
      throw new Error(`${spec.key}: record ${s.sourceKey} has no ${spec.keyProperty}`);
    }
    return key as string | number;
  };
  const target: NodeTarget = {
    kind: "neo4j-nodes",
    label: spec.label,
    keyProperty: spec.keyProperty,
    integerKey: spec.integers?.includes(spec.keyProperty) ?? false,
  };
  const asset = defineAsset<GraphResources>({
    ...spec,
    deps: [spec.from.key, ...(spec.deps ?? [])],
    resources: [neo4jKind, stagingKind],
    target,
    async materialize(ctx) {
      const { neo4j, staging } = ctx.resources;
      await ensureUniqueKey(neo4j, spec.label, spec.keyProperty);
      await ensureIndex(neo4j, spec.label, "ingestSourceKey");
      for (const property of spec.indexes ?? []) await ensureIndex(neo4j, spec.label, property);
      const hold = staging.holdDetached.bind(staging);
      const remove = (rows: { sourceKey: string; key: unknown }[]) =>
        removeNodes(neo4j, spec.label, spec.keyProperty, rows, ctx.assetKey, hold, target.integerKey);
      const { counts, dataVersion } = await loadChanges<T>(
        ctx,
        staging,
        spec.from.staged.table,
        spec.codeVersion,
        graphPageSize,
        {
          store: { system: "neo4j", collection: spec.label, client: neo4j },
          async write(records, refresh) {
            const rows = records.map((s) => {
              const props: Record<string, unknown> = {
                ...spec.properties(s.record),
                ...lineageProperties(ctx, spec.from.staged.source, s),
              };
              return { sourceKey: s.sourceKey, key: keyOf(s, props), props };
            });
            // A record whose key changed leaves its old node behind unless it is removed first.
            const { moved } = refresh ? { moved: 0 } : await remove(rows);
            const { written } = await mergeNodes(neo4j, spec.label, spec.keyProperty, rows, {
              integers: spec.integers,
            });
            return { written, moved };
          },
          remove: async (records) =>
            (await remove(records.map((s) => ({ sourceKey: s.sourceKey, key: null })))).removed,
          sweep: (runs) => sweepNodes(neo4j, spec.label, spec.keyProperty, ctx.assetKey, runs, hold),
        },
      );
      return { counts: { ...counts }, dataVersion };
    },
  });
  return asset as NodeAsset;
}
