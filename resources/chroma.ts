import { ChromaClient, ChromaNotFoundError, type Collection, type Metadata } from "chromadb";
import { assertCollectionName } from "./identifiers.ts";
import { settings } from "./settings.ts";

export type { Collection };

export interface UpsertBatch {
  ids: string[];
  embeddings: number[][];
  documents: string[];
  metadatas: Record<string, string | number | boolean | null>[];
}

/** A Chroma client bound to one server, with collections that never load a default embedding function. */
export interface ChromaResource {
  client: ChromaClient;
  /** The server's own cap on records per request. */
  maxBatchSize: number;
  /** Gets or creates a cosine-distance collection; we always pass our own embeddings. */
  collection(name: string): Promise<Collection>;
  upsert(collection: Collection, batch: UpsertBatch): Promise<void>;
  /** Deletes these ids (those that exist), in batches within the server's cap. */
  delete(collection: Collection, ids: string[]): Promise<void>;
  drop(name: string): Promise<void>;
}

/** Null metadata values are left out: Chroma accepts only strings, numbers and booleans. */
function chromaMetadata(record: UpsertBatch["metadatas"][number]): Metadata {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== null && v !== undefined)) as Metadata;
}

export async function connectChroma(url = settings().chromaUrl): Promise<ChromaResource> {
  const { hostname, port, protocol } = new URL(url);
  const client = new ChromaClient({ host: hostname, port: Number(port || (protocol === "https:" ? 443 : 80)), ssl: protocol === "https:" });
  // Client 3.x speaks Chroma's v2 API, which servers 1.x serve.
  const version = await client.version();
  if (!/^1\./.test(version)) {
    throw new Error(`the Chroma server at ${url} reports API version ${version}; this client (chromadb 3.x) needs a 1.x server`);
  }
  const maxBatchSize = await client.getMaxBatchSize();
  return {
    client,
    maxBatchSize,
    collection: (name) =>
      client.getOrCreateCollection({
        name: assertCollectionName(name),
        embeddingFunction: null,
        configuration: { hnsw: { space: "cosine" } },
      }),
    async upsert(collection, batch) {
      for (let start = 0; start < batch.ids.length; start += maxBatchSize) {
        const end = start + maxBatchSize;
        await collection.upsert({
          ids: batch.ids.slice(start, end),
          embeddings: batch.embeddings.slice(start, end),
          documents: batch.documents.slice(start, end),
          metadatas: batch.metadatas.slice(start, end).map(chromaMetadata),
        });
      }
    },
    async delete(collection, ids) {
      for (let start = 0; start < ids.length; start += maxBatchSize) await collection.delete({ ids: ids.slice(start, start + maxBatchSize) });
    },
    async drop(name) {
      try {
        await client.deleteCollection({ name });
      } catch (error) {
        if (!(error instanceof ChromaNotFoundError)) throw error;
      }
    },
  };
}
