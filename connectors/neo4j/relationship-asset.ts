import { type AssetDefinition, type AssetKindSpec, checkAssetDefinition, defineAsset } from "../../engine/asset.ts";
import { assertIdentifier } from "../identifiers.ts";
import { derivedVersion, loadChanges } from "../staging/load-changes.ts";
import type { StagedRecord } from "../staging/records.ts";
import type { StagedAsset } from "../staging/staged-asset.ts";
import { lineageProperties } from "./lineage.ts";
import { graphPageSize, type GraphResources, nodeTargetOf } from "./node-asset.ts";
import { deleteRelationshipsOf, sweep } from "./remove.ts";
import {
  assertRelationshipIdentifiers,
  mergeRelationships,
  type RelationshipEnd,
  unwrittenRelationships,
} from "./write.ts";

/** One end of a relationship: the node asset whose nodes it links, and the key of the node a record links. */
export interface RelationshipEndSpec<T> {
  /** The asset that writes the end's nodes: a node asset, or any asset declaring a `neo4j-nodes` target. */
  node: AssetDefinition;
  value(record: T): unknown;
}

export interface RelationshipAssetSpec<T> extends AssetKindSpec<GraphResources> {
  type: string;
  from: StagedAsset<T>;
  /** The start node; a record's start is taken to stay the same when the record changes (it usually is the record's own node). */
  start: RelationshipEndSpec<T>;
  end: RelationshipEndSpec<T>;
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
    return { label: target.label, key: target.keyProperty };
  } catch (error) {
    throw new Error(`${which}.node: ${(error as Error).message}`);
  }
}

/**
 * A relationship set as an asset: MERGEd between the nodes of two node assets, one per (start, end)
 * pair, with lineage. Only records that changed since the last materialisation are rewritten (what
 * they wrote before is deleted first); removed ones have theirs deleted.
 *
 * @example
 * export const placed = defineRelationshipAsset<Order>({
 *   key: "graph/PLACED", codeVersion: "1", type: "PLACED", from: stagedOrders,
 *   start: { node: customerNodes, value: (o) => o.customerId },
 *   end: { node: orderNodes, value: (o) => o.orderId },
 * });
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
  return defineAsset<GraphResources>({
    ...spec,
    deps: [...new Set([spec.from.key, spec.start.node.key, spec.end.node.key, ...(spec.deps ?? [])])],
    resources: ["neo4j", "staging"],
    target: { kind: "neo4j-relationships", type: spec.type, start, end },
    async materialize(ctx) {
      const { neo4j, staging } = ctx.resources;
      const previous = (records: StagedRecord<T>[]) =>
        deleteRelationshipsOf(
          neo4j,
          spec.type,
          start,
          records.map((s) => ({ start: spec.start.value(s.record), sourceKey: s.sourceKey })),
          ctx.assetKey,
        );
      const describe = (node: RelationshipEnd, value: unknown) =>
        `no (:${node.label} {${node.key}: ${JSON.stringify(value)}}) in the graph`;
      const counts = await loadChanges<T>(ctx, staging, spec.from.staged.table, spec.codeVersion, graphPageSize, {
        async write(records, refresh) {
          if (!refresh) await previous(records);
          const rows = records
            .filter((s) => spec.where?.(s.record) ?? true)
            .map((s) => ({
              start: spec.start.value(s.record),
              end: spec.end.value(s.record),
              id: s.sourceKey,
              props: { ...spec.properties?.(s.record), ...lineageProperties(ctx, spec.from.staged.source, s) },
            }));
          const { written, missingEnds } = await mergeRelationships(neo4j, spec.type, start, end, rows, {
            integers: spec.integers,
          });
          if (missingEnds === 0) return { written };
          // Held back until the node arrives (a product dead-lettered today, fixed tomorrow).
          const byId = new Map(rows.map((r) => [r.id, r]));
          const unwritten = await unwrittenRelationships(neo4j, spec.type, start, end, rows);
          const pending = unwritten.map((u) => {
            const row = byId.get(u.id)!;
            const missing = [u.missingStart && describe(start, row.start), u.missingEnd && describe(end, row.end)]
              .filter(Boolean);
            return { sourceKey: u.id, reason: missing.length > 0 ? missing.join("; ") : "not written" };
          });
          return { written, pending };
        },
        remove: previous,
        sweep: (runs) =>
          sweep(neo4j, `(:${start.label})-[r:${spec.type}]->(:${end.label})`, "r", "DELETE r", ctx.assetKey, runs),
      });
      return {
        counts: { ...counts },
        dataVersion: await derivedVersion(staging, spec.from.staged.table, spec.codeVersion),
      };
    },
  });
}
