export { readTable } from "./read-table.ts";
export type { ReadTableOptions } from "./read-table.ts";
export { postgresResource } from "./resource.ts";
export { observeTable } from "./observe-table.ts";
export type { ObserveTableOptions, TableObservation } from "./observe-table.ts";
