export { readCollection } from "./read-collection.ts";
export type { ReadCollectionOptions } from "./read-collection.ts";
export { connectMongo, mongoResource } from "./resource.ts";
export type { ConnectMongoOptions } from "./resource.ts";
export { observeCollection } from "./observe-collection.ts";
export type { CollectionObservation, ObserveCollectionOptions } from "./observe-collection.ts";
export { plainDocument } from "./plain-values.ts";
export type { PlainDocument, PlainValue, Unconvertible } from "./plain-values.ts";
