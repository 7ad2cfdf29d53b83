import { BSON, type Db, type Document, type Filter, MongoError, type Sort } from "mongodb";
import {
  BadRow,
  type HandleBadRows,
  handleBadRows,
  type OnBadRow,
  SourceError,
  type YieldBadRows,
} from "../bad-rows.ts";
import { type PlainDocument, plainDocument } from "./plain-values.ts";

/** What {@link readCollection} reads, in what order, and how many documents a round trip brings. */
export interface ReadCollectionOptions {
  /** A query filter (`{ status: "active" }`); all documents without one. */
  filter?: Filter<Document>;
  /** The order (`{ _id: 1 }`); the server's natural order without one. Sort on an indexed field. */
  sort?: Sort;
  /** Fields to include or leave out (`{ reviews: 0 }`); the whole document without one. */
  projection?: Document;
  /**
   * Documents fetched per round trip (default 1 000): what is held in memory at a time. Not a positive
   * integer: a `RangeError` when iteration starts.
   */
  batchSize?: number;
}

/** `catalog.products at 127.0.0.1:57017`: the collection and where it is, never the credentials. */
function sourceName(db: Db, name: string): string {
  const hosts = db.client.options.hosts.map((host) => host.toString()).join(",");
  return `MongoDB collection ${db.databaseName}.${name} at ${hosts}`;
}

/** Why reading stopped, said for a person: the source, how far it got, and the server's or driver's words. */
function readError(source: string, read: number, error: unknown): SourceError {
  const code = error instanceof MongoError ? error.code : undefined;
  const why = code === 18 || /auth/i.test(String((error as Error)?.message))
    ? `the server refused the credentials (${(error as Error).message})`
    : error instanceof MongoError && /Network|ServerSelection|PoolClear|Topology/.test(error.name)
    ? `the server went away (${error.message})`
    : (error as Error)?.message ?? String(error);
  return new SourceError(`${source}: reading failed after ${read} documents: ${why}`, { cause: error });
}

async function* readDocuments(
  db: Db,
  name: string,
  { filter = {}, sort, projection, batchSize = 1_000 }: ReadCollectionOptions,
): AsyncGenerator<PlainDocument | BadRow> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  }
  const source = sourceName(db, name);
  const cursor = db.collection(name).find(filter, { sort, projection, batchSize });
  let read = 0;
  try {
    for (;;) {
      let next: Document | null;
      try {
        next = await cursor.next();
      } catch (error) {
        throw readError(source, read, error);
      }
      if (next === null) return;
      read += 1;
      const converted = plainDocument(next);
      if ("document" in converted) {
        yield converted.document;
      } else {
        const { path, problem } = converted.unconvertible;
        const id = BSON.EJSON.stringify(next._id ?? null);
        yield new BadRow(
          source,
          read,
          `document _id ${id}: ${path} is ${problem}, which has no JSON value`,
          BSON.EJSON.stringify(next, { relaxed: false }),
        );
      }
    }
  } finally {
    // A `break` (or a throw) in the caller's loop lands here: the server drops the cursor now, not at its timeout.
    await cursor.close().catch(() => {});
  }
}

/**
 * Streams a MongoDB collection's documents through a cursor, `batchSize` at a time, so a collection of
 * any size is read in bounded memory. Each document comes as plain JSON values (ObjectId as hex, dates
 * as ISO 8601, Decimal128 as its decimal text; see `plainDocument`), nested documents and arrays kept.
 * Stopping the loop (`break`) closes the cursor on the server.
 *
 * A document holding a value with no JSON form (NaN, a regular expression, a date JavaScript cannot
 * hold) is never dropped: by default it is yielded in place as a {@link BadRow} (its position in the
 * read, the `_id`, the field's path, the document as canonical Extended JSON); `onBadRow: "throw"` stops
 * there, and a callback receives it while reading goes on. A read that fails (the server gone, the
 * credentials refused) throws a {@link SourceError} naming the collection, its host and how many
 * documents were read, never the password. Nothing is read until the first iteration.
 *
 * @example A staged asset's extract, with the database received as the resource `catalog`
 * ```ts
 * extract: ({ resources: { catalog } }) => readCollection(catalog, "products", { sort: { _id: 1 } }),
 * ```
 *
 * @example
 * ```ts
 * for await (const doc of readCollection(db, "sessions", { filter: { device: "mobile" }, batchSize: 500 })) {
 *   if (isBadRow(doc)) console.error(doc.__error);
 *   else console.log(doc._id, doc.startedAt);
 * }
 * ```
 */
export function readCollection(
  db: Db,
  name: string,
  options?: ReadCollectionOptions & YieldBadRows,
): AsyncIterable<PlainDocument | BadRow>;
/** With `onBadRow: "throw"` or a callback: only documents are yielded (see the first signature). */
export function readCollection(
  db: Db,
  name: string,
  options: ReadCollectionOptions & HandleBadRows,
): AsyncIterable<PlainDocument>;
export function readCollection(
  db: Db,
  name: string,
  options: ReadCollectionOptions & { onBadRow?: OnBadRow } = {},
): AsyncIterable<PlainDocument | BadRow> {
  return handleBadRows(readDocuments(db, name, options), options.onBadRow);
}
