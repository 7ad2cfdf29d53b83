import {
  type AssetDefinition,
  type AssetKindSpec,
  type AssetTarget,
  checkAssetDefinition,
  defineAsset,
} from "../../engine/asset.ts";
import { assertIdentifier } from "../identifiers.ts";
import { derivedVersion, loadChanges } from "../staging/load-changes.ts";
import type { StagedRecord } from "../staging/records.ts";
import type { StagedAsset } from "../staging/staged-asset.ts";
import type { Staging } from "../staging/staging.ts";
import type { Driver } from "./driver.ts";
import { lineageProperties } from "./lineage.ts";
import { deleteNodes, sweep } from "./remove.ts";
import { ensureIndex, ensureUniqueKey } from "./schema.ts";
import { mergeNodes } from "./write.ts";

export type GraphResources = { neo4j: Driver; staging: Staging };

/** Staged records read and written per page: one Postgres query, then the writer's own batches. */
export const graphPageSize = 20_000;

export interface NodeAssetSpec<T> extends AssetKindSpec<GraphResources> {
  label: string;
  keyProperty: string;
  /** Properties people look nodes up by: range indexes, created idempotently before loading. */
  indexes?: string[];
  /** Properties stored as Neo4j integers (JavaScript numbers are otherwise sent as floats). */
  integers?: string[];
  from: StagedAsset<T>;
  /** The node's properties; must include `keyProperty`. */
  properties(record: T): Record<string, unknown>;
  /** More upstream assets beside `from`. */
  deps?: string[];
}

/** What a node asset writes: nodes of one label, MERGEd on one key property. */
export interface NodeTarget extends AssetTarget {
  kind: "neo4j-nodes";
  label: string;
  keyProperty: string;
  /** The key property is stored as a Neo4j INTEGER (declared in `integers`). */
  integerKey?: boolean;
}

/** An asset that writes Neo4j nodes: what a relationship end names, so its label, key and dependency follow from it. */
// deno-lint-ignore no-explicit-any -- any resources: a custom asset may write the nodes
export type NodeAsset = AssetDefinition<any> & { target: NodeTarget };

/** The nodes an asset writes, or an error saying it writes none. */
export function nodeTargetOf(asset: AssetDefinition): NodeTarget {
  const target = asset.target;
  if (target?.kind !== "neo4j-nodes" || typeof target.label !== "string" || typeof target.keyProperty !== "string") {
    throw new Error(
      `'${asset.key}' writes no Neo4j nodes: name a node asset (defineNodeAsset, or an asset declaring target { kind: "neo4j-nodes", label, keyProperty })`,
    );
  }
  return target as NodeTarget;
}

/**
 * A Neo4j label as an asset: nodes MERGEd on a uniqueness constraint (created if missing), one per
 * staged record, each carrying the run, asset and source record that wrote it. Only records that
 * changed since the last materialisation are written; removed ones are deleted.
 *
 * @example
 * export const productNodes = defineNodeAsset<Product>({
 *   key: "graph/Product", codeVersion: "1", label: "Product", keyProperty: "productId",
 *   from: stagedProducts, properties: (p) => ({ ...p }),
 * });
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
    resources: ["neo4j", "staging"],
    target,
    async materialize(ctx) {
      const { neo4j, staging } = ctx.resources;
      await ensureUniqueKey(neo4j, spec.label, spec.keyProperty);
      for (const property of spec.indexes ?? []) await ensureIndex(neo4j, spec.label, property);
      const counts = await loadChanges<T>(ctx, staging, spec.from.staged.table, spec.codeVersion, graphPageSize, {
        async write(records) {
          const rows = records.map((s) => {
            const props: Record<string, unknown> = {
              ...spec.properties(s.record),
              ...lineageProperties(ctx, spec.from.staged.source, s),
            };
            return { key: keyOf(s, props), props };
          });
          return mergeNodes(neo4j, spec.label, spec.keyProperty, rows, { integers: spec.integers });
        },
        remove: (records) =>
          deleteNodes(neo4j, spec.label, spec.keyProperty, records.map((s) => keyOf(s)), ctx.assetKey),
        sweep: (runs) => sweep(neo4j, `(n:${spec.label})`, "n", "DETACH DELETE n", ctx.assetKey, runs),
      });
      return {
        counts: { ...counts },
        dataVersion: await derivedVersion(staging, spec.from.staged.table, spec.codeVersion),
      };
    },
  });
  return asset as NodeAsset;
}
