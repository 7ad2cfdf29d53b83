export { readJson } from "./read-json.ts";
export type { JsonOptions, JsonValue } from "./read-json.ts";
