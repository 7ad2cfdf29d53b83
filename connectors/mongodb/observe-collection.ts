import type { Db } from "mongodb";
import { plainDocument } from "./plain-values.ts";

/** What {@link observeCollection} reads beside the document count. */
export interface ObserveCollectionOptions {
  /** A field every insert and update sets (`updatedAt`): its greatest value is part of the version. */
  updatedAt?: string;
}

/** A collection's version as {@link observeCollection} reads it. */
export type CollectionObservation = {
  /** Documents in the collection. */
  documents: number;
  /** The greatest `updatedAt` value as plain JSON (a date as ISO text; null for an empty collection); only with `updatedAt`. */
  latest?: unknown;
};

/**
 * A cheap version of a MongoDB collection for an observable source asset (its `observe`): the document
 * count and, given a field every write sets, its greatest value (one indexed `find` when the field has an
 * index). The source is stale as soon as either moves, without extracting it.
 *
 * @example
 * ```ts
 * export const stagedVariants = defineStagedAsset<Variant, { catalog: Db }>({
 *   // …key, table, model, extract…
 *   observe: ({ resources: { catalog } }) => observeCollection(catalog, "products", { updatedAt: "updatedAt" }),
 * });
 * ```
 */
export async function observeCollection(
  db: Db,
  name: string,
  options: ObserveCollectionOptions = {},
): Promise<CollectionObservation> {
  const collection = db.collection(name);
  const documents = await collection.countDocuments();
  if (!options.updatedAt) return { documents };
  const [newest] = await collection.find({}, { projection: { _id: 0, [options.updatedAt]: 1 } })
    .sort({ [options.updatedAt]: -1 }).limit(1).toArray();
  const converted = newest ? plainDocument(newest) : undefined;
  const latest = converted && "document" in converted ? converted.document[options.updatedAt] ?? null : null;
  return { documents, latest };
}
