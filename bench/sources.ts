import { type BenchResult } from "./report.ts";
import { parquetBench, xmlBench } from "./sources-files.ts";
import { mariadbBench } from "./sources-mariadb.ts";

/**
 * The sources' readers against a reference reader of the same data, side by side in one run: MariaDB
 * (`readMysql` against the `mariadb` client), Parquet (`readParquet` against pyarrow) and XML (`readXml`
 * against lxml), with the file readers' peak memory on ~1 GB files. Results: `bench/results/sources.json`.
 */
export async function sourcesBench(): Promise<BenchResult[]> {
  return [...await mariadbBench(), ...await parquetBench(), ...await xmlBench()];
}
