import { type AssetDefinition, type AssetKindSpec, checkAssetDefinition, defineAsset } from "../../engine/asset.ts";
import { assertIdentifier } from "../identifiers.ts";
import { loadChanges } from "../staging/load-changes.ts";
import type { StagedRecord } from "../staging/records.ts";
import type { StagedAsset } from "../staging/staged-asset.ts";
import { lineageProperties } from "./lineage.ts";
import { graphPageSize, type GraphResources } from "./node-asset.ts";
import { missingNode, nodeTargetOf } from "./targets.ts";
import { type DesiredRelationship, removeRelationships, sweepRelationships } from "./remove.ts";
import { ensureRelationshipIndex } from "./schema.ts";
import { assertRelationshipIdentifiers, mergeRelationships, missingEnds, type RelationshipEnd } from "./write.ts";
import { neo4jKind } from "./resource.ts";
import { stagingKind } from "../staging/resource.ts";

/** One end of a relationship: the node asset whose nodes it links, and the key of the node a record links. */
export interface RelationshipEndSpec<T> {
  /** The asset that writes the end's nodes: a node asset, or any asset declaring a `neo4j-nodes` target. */
  node: AssetDefinition;
  /** The key of the node a record links (its `keyProperty` value); null or undefined: no relationship. */
  value(record: T): unknown;
}

/**
 * What {@link defineRelationshipAsset} takes: the type, the staged records it is built from, and its
 * two ends, each a node asset and the key of the node a record links. `T` is the staged record type.
 */
export interface RelationshipAssetSpec<T> extends AssetKindSpec<GraphResources> {
  /** The relationship type, e.g. `PLACED`: letters, digits and `_`, starting with a letter. */
  type: string;
  /** The staged asset whose records become relationships, one per record. */
  from: StagedAsset<T>;
  /** The start node; a record's value of null or undefined (at either end) means it has no relationship. */
  start: RelationshipEndSpec<T>;
  /** The end node, as `start`. */
  end: RelationshipEndSpec<T>;
  /** The relationship's properties (none by default); lineage properties are added. */
  properties?(record: T): Record<string, unknown>;
  /** Properties stored as Neo4j integers (JavaScript numbers are otherwise sent as floats). */
  integers?: string[];
  /** Only records for which this holds have the relationship (a root category has no parent). */
  where?(record: T): boolean;
  /** More upstream assets beside `from` and the two end node assets. */
  deps?: string[];
}

function endOf(spec: RelationshipEndSpec<unknown>, which: "start" | "end"): RelationshipEnd {
  try {
    const target = nodeTargetOf(spec.node);
    return { label: target.label, key: target.keyProperty, integer: target.integerKey ?? false };
  } catch (error) {
    throw new Error(`${which}.node: ${(error as Error).message}`);
  }
}

/**
 * A relationship set as an asset: one relationship per staged record, between the nodes of two node
 * assets, with lineage. A relationship belongs to its source record (found by `ingestSourceKey`,
 * which is indexed): when the record changes, what it wrote before goes unless it is still right,
 * whatever its ends were, and when it goes, its relationship goes. Only records that changed since
 * the last materialisation are written. A relationship whose end node is not in the graph waits in
 * `staging.pending` until the node arrives.
 *
 * It depends on `from` and on both end node assets, and needs the same resources as a node asset. An end
 * whose asset writes no Neo4j nodes, or an invalid type or property name, throws a `DefinitionError`.
 *
 * @example
 * ```ts
 * export const placed = defineRelationshipAsset<Order>({
 *   key: "graph/PLACED", codeVersion: "1", type: "PLACED", from: stagedOrders,
 *   start: { node: customerNodes, value: (o) => o.customerId },
 *   end: { node: orderNodes, value: (o) => o.orderId },
 * });
 * ```
 */
export function defineRelationshipAsset<T>(spec: RelationshipAssetSpec<T>): AssetDefinition<GraphResources> {
  let start!: RelationshipEnd;
  let end!: RelationshipEnd;
  checkAssetDefinition(spec.key, () => {
    start = endOf(spec.start as RelationshipEndSpec<unknown>, "start");
    end = endOf(spec.end as RelationshipEndSpec<unknown>, "end");
    assertRelationshipIdentifiers(spec.type, start, end);
    for (const property of spec.integers ?? []) assertIdentifier("property key", property);
  });
  /** What a record wants now: its ends, or none (`where` fails, or a foreign key is null). */
  const desired = (s: StagedRecord<T>): DesiredRelationship => {
    const [from, to] = [spec.start.value(s.record), spec.end.value(s.record)];
    const wanted = (spec.where?.(s.record) ?? true) && from !== null && from !== undefined && to !== null &&
      to !== undefined;
    return { key: s.sourceKey, start: wanted ? from : null, end: wanted ? to : null };
  };
  return defineAsset<GraphResources>({
    ...spec,
    deps: [...new Set([spec.from.key, spec.start.node.key, spec.end.node.key, ...(spec.deps ?? [])])],
    resources: [neo4jKind, stagingKind],
    target: { kind: "neo4j-relationships", type: spec.type, start, end },
    async materialize(ctx) {
      const { neo4j, staging } = ctx.resources;
      await ensureRelationshipIndex(neo4j, spec.type, "ingestSourceKey");
      const identity = { asset: ctx.assetKey };
      const describe = (node: RelationshipEnd, value: unknown) => missingNode(node.label, node.key, value);
      const { counts, dataVersion } = await loadChanges<T>(
        ctx,
        staging,
        spec.from.staged.table,
        spec.codeVersion,
        graphPageSize,
        {
          store: { system: "neo4j", collection: spec.type, client: neo4j },
          async write(records, refresh) {
            const wanted = records.map(desired);
            // What a changed record wrote before goes, unless it is what it wants now.
            const { removed, moved } = refresh
              ? { removed: 0, moved: 0 }
              : await removeRelationships(neo4j, spec.type, start, end, wanted, ctx.assetKey);
            const bySourceKey = new Map(records.map((s) => [s.sourceKey, s]));
            const rows = wanted.filter((w) => w.start !== null).map((w) => {
              const s = bySourceKey.get(w.key)!;
              return {
                start: w.start,
                end: w.end,
                key: w.key,
                props: { ...spec.properties?.(s.record), ...lineageProperties(ctx, spec.from.staged.source, s) },
              };
            });
            const { written, unwritten } = await mergeRelationships(neo4j, spec.type, start, end, rows, {
              integers: spec.integers,
              identity,
            });
            if (unwritten.length === 0) return { written, removed, moved };
            // Held back until the node arrives (a product dead-lettered today, fixed tomorrow).
            const missing = await missingEnds(neo4j, start, end, unwritten);
            const pending = unwritten.map((row, i) => {
              const why = [missing[i]!.start && describe(start, row.start), missing[i]!.end && describe(end, row.end)];
              // Both ends there now: a node arrived since the write; the next materialisation writes it.
              return { sourceKey: row.key!, reason: why.filter(Boolean).join("; ") || "not written yet" };
            });
            return { written, pending, removed, moved };
          },
          remove: async (records) =>
            (await removeRelationships(
              neo4j,
              spec.type,
              start,
              end,
              records.map((s) => ({ key: s.sourceKey, start: null, end: null })),
              ctx.assetKey,
            )).removed,
          sweep: (runs) => sweepRelationships(neo4j, spec.type, ctx.assetKey, runs),
        },
      );
      return { counts: { ...counts }, dataVersion };
    },
  });
}
