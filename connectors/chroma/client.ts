import { ChromaClient, ChromaNotFoundError, type Collection, type Metadata } from "chromadb";
import { settings } from "../../resources/settings.ts";
import { rememberServer } from "../../resources/servers.ts";
import { assertCollectionName, isIdentifier } from "../identifiers.ts";

export type { Collection };

/** What a record's metadata may hold: null and undefined are left out, anything else is an error. */
export type MetadataInput = Record<string, string | number | boolean | null | undefined>;

/** Records to upsert into a collection, by position: the i-th id goes with the i-th embedding, document and metadata. */
export interface UpsertBatch {
  /** Unique within the batch. */
  ids: string[];
  /** One vector per id, of the collection's dimension. */
  embeddings: number[][];
  /** The text stored with each id. */
  documents: string[];
  /** The fields each record can be filtered on. */
  metadatas: MetadataInput[];
}

/**
 * A Chroma client bound to one server, with collections that never load a default embedding function.
 * What `chromaResource()` gives collection assets, and `connectChroma()` returns.
 */
export interface ChromaResource {
  /** The chromadb client itself, for what this interface does not cover (queries, say). */
  client: ChromaClient;
  /** The server's own cap on records per request. */
  maxBatchSize: number;
  /** Records per request: the measured best, within the server's cap. */
  batchSize: number;
  /** Gets or creates a cosine-distance collection; we always pass our own embeddings. */
  collection(name: string): Promise<Collection>;
  /**
   * Upserts any number of records, `batchSize` a request, after checking every record first: ids
   * unique, one embedding, document and metadata per id, metadata field names plain identifiers (letters,
   * digits, `_`) and values strings, finite numbers or booleans. Nothing is written when a check fails. Resolves to the number of records written.
   * The returned promise may be awaited later: embedding the next records meanwhile overlaps the two.
   *
   * Chroma merges an upserted record's metadata into what it had, and keeps a field the new metadata
   * leaves out (or sets to null). With `replace`, a record already in the collection whose stored
   * metadata has a field the new one lacks is deleted first, so it ends with exactly the new metadata.
   *
   * @example
   * ```ts
   * const chroma = await connectChroma();
   * const written = chroma.upsert("reviews", { ids: ["R1"], embeddings: [vector], documents: ["Great kettle"], metadatas: [{ rating: 5 }] });
   * const next = await embedder.embed(nextDocuments);
   * await written;
   * ```
   */
  upsert(
    collection: Collection | string,
    batch: UpsertBatch,
    options?: {
      /** Delete a stored record first when its metadata has a field the new one lacks (default false). */
      replace?: boolean;
    },
  ): Promise<number>;
  /** Deletes these ids (ids it does not hold are ignored), `batchSize` a request. Resolves to the number of ids sent. */
  delete(collection: Collection | string, ids: string[]): Promise<number>;
  /** Deletes the collection and everything in it; a collection that does not exist is no error. */
  drop(name: string): Promise<void>;
}

/** How `connectChroma` and `chromaResource` talk to the server. */
export interface ChromaOptions {
  /** Records per request, capped by the server's maximum; 300 by default (measured: README, "Embedding"). */
  batchSize?: number;
}

/**
 * A metadata value Chroma cannot store (an object, an array, a Date, NaN or ±Infinity), or a field name
 * that is not a plain identifier, found before anything of the upsert is written; the message names the
 * collection, the record and the field.
 *
 * @example
 * ```ts
 * try {
 *   await chroma.upsert("reviews", batch);
 * } catch (error) {
 *   if (error instanceof ChromaMetadataError) console.error(error.id, error.field);
 *   throw error;
 * }
 * ```
 */
export class ChromaMetadataError extends Error {
  /** The collection the upsert was for. */
  readonly collection: string;
  /** The id of the record whose metadata is wrong. */
  readonly id: string;
  /** The metadata field that holds the value. */
  readonly field: string;
  /** `detail` says what is wrong (`is an object`); `rule`, what is accepted (by default: which values). */
  constructor(collection: string, id: string, field: string, detail: string, rule = acceptedValues) {
    super(`collection '${collection}', record '${id}': metadata field '${field}' ${detail}; ${rule}`);
    this.name = "ChromaMetadataError";
    this.collection = collection;
    this.id = id;
    this.field = field;
  }
}

const acceptedValues = "Chroma accepts only strings, finite numbers and booleans (null and undefined are left out)";

/**
 * Chroma keeps keys such as `chroma:document` for itself (a record's metadata with one is dropped whole),
 * and filters read `$and` or `$in` as operators: a field is a plain identifier, as a property key is.
 */
const fieldNames = "a field name is ASCII letters, digits and '_', starting with a letter (at most 63 characters)";

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a Date (store it as a number, e.g. epoch seconds)";
  if (typeof value === "object") return "an object";
  return `a ${typeof value}`;
}

/** The metadata Chroma gets: null and undefined left out, every field name and every other value checked. */
export function chromaMetadata(collection: string, id: string, record: MetadataInput): Metadata | null {
  const out: Metadata = {};
  for (const [field, value] of Object.entries(record)) {
    if (!isIdentifier(field)) {
      throw new ChromaMetadataError(collection, id, JSON.stringify(field).slice(1, -1), "is no valid name", fieldNames);
    }
    if (value === null || value === undefined) continue;
    if (typeof value === "number" && !Number.isFinite(value)) {
      throw new ChromaMetadataError(collection, id, field, `is ${value}`);
    }
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean") {
      throw new ChromaMetadataError(collection, id, field, `is ${describe(value)}`);
    }
    out[field] = value;
  }
  // Chroma rejects an empty metadata object; no metadata at all is fine.
  return Object.keys(out).length > 0 ? out : null;
}

function checkBatch(collection: string, batch: UpsertBatch): void {
  const n = batch.ids.length;
  for (
    const [name, list] of [["embeddings", batch.embeddings], ["documents", batch.documents], [
      "metadatas",
      batch.metadatas,
    ]] as const
  ) {
    if (list.length !== n) throw new Error(`collection '${collection}': ${n} ids but ${list.length} ${name}`);
  }
  const seen = new Set<string>();
  for (const id of batch.ids) {
    if (seen.has(id)) throw new Error(`collection '${collection}': id '${id}' comes twice in one upsert`);
    seen.add(id);
  }
}

/** Deletes the records whose stored metadata has a field `metadatas` (by position of `ids`) does not: an upsert would keep it. */
async function deleteShrinking(c: Collection, ids: string[], metadatas: (Metadata | null)[]): Promise<void> {
  const wanted = new Map(ids.map((id, i) => [id, metadatas[i]]));
  const shrinking: string[] = [];
  for (let start = 0; start < ids.length; start += 1_000) {
    const stored = await c.get({ ids: ids.slice(start, start + 1_000), include: ["metadatas"] as never });
    stored.ids.forEach((id, i) => {
      const now = wanted.get(id) ?? {};
      if (Object.keys(stored.metadatas[i] ?? {}).some((field) => !(field in now))) shrinking.push(id);
    });
  }
  for (let start = 0; start < shrinking.length; start += 300) {
    await c.delete({ ids: shrinking.slice(start, start + 300) });
  }
}

/**
 * Connects to the Chroma server at `url` (default `CHROMA_URL`, else the local stack's) and checks it:
 * it must speak API version 1.x (chromadb 3.x's), or this throws naming the version found. `batchSize`
 * is capped by the server's own maximum. Nothing needs closing.
 *
 * @example
 * ```ts
 * const chroma = await connectChroma();
 * const collection = await chroma.collection("products");
 * const found = await collection.get({ ids: ["P-1003"] });
 * console.log(found.documents[0], await collection.count());
 * ```
 */
export async function connectChroma(url = settings().chromaUrl, options: ChromaOptions = {}): Promise<ChromaResource> {
  const { hostname, port, protocol } = new URL(url);
  const client = new ChromaClient({
    host: hostname,
    port: Number(port || (protocol === "https:" ? 443 : 80)),
    ssl: protocol === "https:",
  });
  // Client 3.x speaks Chroma's v2 API, which servers 1.x serve.
  const version = await client.version();
  if (!/^1\./.test(version)) {
    throw new Error(
      `the Chroma server at ${url} reports API version ${version}; this client (chromadb 3.x) needs a 1.x server`,
    );
  }
  const maxBatchSize = await client.getMaxBatchSize();
  const batchSize = Math.max(1, Math.min(maxBatchSize, options.batchSize ?? 300));
  const collection = (name: string) =>
    client.getOrCreateCollection({
      name: assertCollectionName(name),
      embeddingFunction: null,
      configuration: { hnsw: { space: "cosine" } },
    });
  const resolve = (c: Collection | string) => (typeof c === "string" ? collection(c) : Promise.resolve(c));
  return rememberServer({
    client,
    maxBatchSize,
    batchSize,
    collection,
    async upsert(target, batch, options = {}) {
      const c = await resolve(target);
      checkBatch(c.name, batch);
      const metadatas = batch.metadatas.map((m, i) => chromaMetadata(c.name, batch.ids[i]!, m));
      if (options.replace) await deleteShrinking(c, batch.ids, metadatas);
      for (let start = 0; start < batch.ids.length; start += batchSize) {
        const end = start + batchSize;
        await c.upsert({
          ids: batch.ids.slice(start, end),
          embeddings: batch.embeddings.slice(start, end),
          documents: batch.documents.slice(start, end),
          // A record without metadata goes as null (the client's types say otherwise; the server takes it).
          metadatas: metadatas.slice(start, end) as Metadata[],
        });
      }
      return batch.ids.length;
    },
    async delete(target, ids) {
      const c = await resolve(target);
      for (let start = 0; start < ids.length; start += batchSize) {
        await c.delete({ ids: ids.slice(start, start + batchSize) });
      }
      return ids.length;
    },
    async drop(name) {
      try {
        await client.deleteCollection({ name: assertCollectionName(name) });
      } catch (error) {
        if (!(error instanceof ChromaNotFoundError)) throw error;
      }
    },
  }, url);
}
