export { readCsv, readTsv } from "./read-csv.ts";
export type { CsvOptions, CsvRecord } from "./read-csv.ts";
