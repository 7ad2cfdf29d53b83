import { createHash } from "node:crypto";
import { canonicalJson } from "../engine/canonical-json.ts";
import type { connect } from "./support.ts";

/**
 * What a `livenessDefinitions` project left in Neo4j and Chroma, comparable with another project's: its
 * prefix and the run ids (which differ by design) taken out, the nodes, relationships (with their end
 * pairs) and documents (ids, text, metadata) as checksums, plus counts and the embeddings by id.
 * Two projects loaded from the same source compare equal whatever happened on the way; every key and
 * value counts (canonical JSON, keys sorted at every level).
 */
export async function projectSnapshot(env: Awaited<ReturnType<typeof connect>>, prefix: string) {
  const normalise = (value: unknown) =>
    JSON.parse(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? Number(v) : v)).replaceAll(prefix, "P"));
  const withoutRun = ({ ingestRunId: _run, run_id: _runId, ...rest }: Record<string, unknown>) => rest;
  const nodes = await env.neo4j.executeQuery(
    `MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH $labels) RETURN labels(n) AS labels, properties(n) AS props`,
    { labels: `LivenessTest_${prefix}_` },
  );
  const relationships = await env.neo4j.executeQuery(
    `MATCH (a)-[r]->(b) WHERE type(r) = $type RETURN type(r) AS type, a.itemId AS start, b.tag AS end, properties(r) AS props`,
    { type: `${prefix}_TAGGED` },
  );
  const collection = await env.chroma.collection(`${prefix}-items`);
  const documents = await collection.get({ include: ["documents", "metadatas", "embeddings"] });
  const graph = normalise([
    ...nodes.records.map((r) => ({ labels: r.get("labels"), props: withoutRun(r.get("props")) })),
    ...relationships.records.map((r) => ({
      type: r.get("type"),
      start: r.get("start"),
      end: r.get("end"),
      props: withoutRun(r.get("props")),
    })),
  ]).map(canonicalJson);
  const docs = normalise(
    documents.ids.map((id, i) => ({
      id,
      document: documents.documents[i],
      metadata: withoutRun(documents.metadatas[i] ?? {}),
    })),
  )
    .map(canonicalJson);
  const checksum = (entries: string[]) => createHash("sha256").update(entries.sort().join("\n")).digest("hex");
  return {
    counts: {
      nodes: nodes.records.length,
      distinctNodes: new Set(graph.slice(0, nodes.records.length)).size,
      relationships: relationships.records.length,
      distinctRelationships: new Set(
        relationships.records.map((r) => `${r.get("start")}->${r.get("end")}`),
      ).size,
      documents: documents.ids.length,
    },
    graphChecksum: checksum(graph),
    collectionChecksum: checksum(docs),
    embeddings: new Map(documents.ids.map((id, i) => [id, documents.embeddings[i] as number[]])),
  };
}
