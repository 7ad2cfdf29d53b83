export { readParquet } from "./read-parquet.ts";
export type { ParquetOptions, ParquetRecord } from "./read-parquet.ts";
