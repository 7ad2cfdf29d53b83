import type { RecordLineage } from "../neo4j/lineage.ts";
import type { ChromaResource } from "./client.ts";

/** The lineage of the document `collection:id`, from its metadata (`run_id`, `asset`, `source`, …). */
export async function findDocumentRecord(chroma: ChromaResource, spec: string): Promise<RecordLineage> {
  const colon = spec.indexOf(":");
  const [collectionName, id] = colon < 0 ? [spec, ""] : [spec.slice(0, colon), spec.slice(colon + 1)];
  if (!collectionName || !id) throw new Error(`--document takes <collection>:<id>; got '${spec}'`);
  const collection = await chroma.collection(collectionName);
  const { metadatas } = await collection.get({ ids: [id], include: ["metadatas"] });
  const m = metadatas[0];
  if (!m) throw new Error(`no document '${id}' in collection '${collectionName}'`);
  return {
    runId: String(m.run_id),
    assetKey: String(m.asset),
    source: String(m.source),
    sourceKey: String(m.source_key),
    contentHash: String(m.content_hash),
  };
}
