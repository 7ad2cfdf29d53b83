export { readTable } from "./read-table.ts";
export type { ReadTableOptions } from "./read-table.ts";
export { postgresResource } from "./resource.ts";
