import type { AssetDefinition, AssetTarget } from "../../engine/asset.ts";
import { assertIdentifier } from "../identifiers.ts";

/** What a node asset writes: nodes of one label, MERGEd on one key property. */
export interface NodeTarget extends AssetTarget {
  /** Always `neo4j-nodes`. */
  kind: "neo4j-nodes";
  /** The nodes' label. */
  label: string;
  /** The property nodes are MERGEd on. */
  keyProperty: string;
  /** The key property is stored as a Neo4j INTEGER (declared in `integers`). */
  integerKey?: boolean;
}

/** An asset that writes Neo4j nodes: what a relationship end names, so its label, key and dependency follow from it. */
// deno-lint-ignore no-explicit-any -- any resources: a custom asset may write the nodes
export type NodeAsset = AssetDefinition<any> & { target: NodeTarget };

/**
 * The nodes an asset writes, or an error saying it writes none. A custom asset declares its target
 * itself: its label and key, which go into Cypher as text, are checked here.
 */
export function nodeTargetOf(asset: AssetDefinition): NodeTarget {
  const target = asset.target;
  if (target?.kind !== "neo4j-nodes" || typeof target.label !== "string" || typeof target.keyProperty !== "string") {
    throw new Error(
      `'${asset.key}' writes no Neo4j nodes: name a node asset (defineNodeAsset, or an asset declaring target { kind: "neo4j-nodes", label, keyProperty })`,
    );
  }
  assertIdentifier("label", target.label);
  assertIdentifier("property key", target.keyProperty);
  return target as NodeTarget;
}

/** Why a relationship is held back: `no (:Product {productId: "p-17"}) in the graph`. */
export function missingNode(label: string, keyProperty: string, key: unknown): string {
  return `no (:${label} {${keyProperty}: ${JSON.stringify(key)}}) in the graph`;
}
