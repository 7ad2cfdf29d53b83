export { readJsonLines } from "./read-jsonl.ts";
export type { JsonLine } from "./read-jsonl.ts";
