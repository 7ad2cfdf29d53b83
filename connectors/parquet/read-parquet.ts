import { type FileHandle, open } from "node:fs/promises";
import * as zlib from "node:zlib";
import {
  type AsyncBuffer,
  type Compressors,
  type FileMetaData,
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
} from "hyparquet";
import {
  BadRow,
  type HandleBadRows,
  handleBadRows,
  type OnBadRow,
  SourceError,
  type YieldBadRows,
} from "../bad-rows.ts";
import { setField } from "../record-fields.ts";

/**
 * A Parquet row keyed by column name, as plain JSON-able values: strings, numbers (INT64 too, as a string
 * beyond ±2^53), booleans, `null`, `Date` for timestamps and dates, base64 strings for binary, objects and
 * arrays for structs, lists and maps.
 */
export type ParquetRecord = Record<string, unknown>;

/** What {@link readParquet} reads of a file. */
export interface ParquetOptions {
  /** Top-level columns to read (default: all); only their column chunks are read from the file. */
  columns?: string[];
  /**
   * Rows decoded at a time within a row group (default 10,000), through the offset index of its column
   * chunks, which hyparquet-writer, Spark and DuckDB write. A row group without one (pyarrow's default)
   * is decoded whole: memory is then bounded by the file's largest row group.
   */
  batchSize?: number;
}

/**
 * Streams a Parquet file's rows (hyparquet, pure JavaScript): the footer first, then one row group at a
 * time, `batchSize` rows at a time, read through positioned reads of one file handle, so memory is bounded
 * by a batch, never the file. Snappy, gzip, Brotli and (where the runtime's zlib has it) Zstandard pages
 * are read. A `.gz` file is not: Parquet compresses its pages itself, and its footer must be read first.
 *
 * A file that is incomplete is never a shorter success. A file whose footer cannot be read (truncated by
 * an interrupted copy or export, or not Parquet at all) yields one {@link BadRow} for the whole file (row
 * 1, the reason, and its size as `raw`): none of its rows can be located without the footer. A row group
 * that cannot be decoded yields a `BadRow` at its first row, naming it and its row range, and reading
 * goes on with the next. `onBadRow` as for `readCsv` (`"throw"`: a `SourceError` instead). A column that
 * is not in the file throws a `SourceError` naming the columns there are. Nothing is read until the first
 * iteration; a missing file rejects it then.
 *
 * @example
 * ```ts
 * for await (const row of readParquet("exports/orders-2025-12.parquet", { columns: ["order_id", "revenue_eur"] })) {
 *   if (isBadRow(row)) await ctx.deadLetter(row.toDeadLetter());
 *   else console.log(row.order_id, row.revenue_eur);
 * }
 * ```
 */
export function readParquet(
  path: string,
  options?: ParquetOptions & YieldBadRows,
): AsyncIterable<ParquetRecord | BadRow>;
/** With `onBadRow: "throw"` or a callback: only rows are yielded (see the first signature). */
export function readParquet(path: string, options: ParquetOptions & HandleBadRows): AsyncIterable<ParquetRecord>;
export function readParquet(
  path: string,
  options: ParquetOptions & { onBadRow?: OnBadRow } = {},
): AsyncIterable<ParquetRecord | BadRow> {
  return handleBadRows(readFile(path, options), options.onBadRow);
}

const compressors: Compressors = {
  GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(zlib.brotliDecompressSync(input)),
  ...("zstdDecompressSync" in zlib &&
    { ZSTD: (input: Uint8Array) => new Uint8Array((zlib as unknown as ZstdZlib).zstdDecompressSync(input)) }),
};
type ZstdZlib = { zstdDecompressSync(input: Uint8Array): Buffer };

async function* readFile(path: string, options: ParquetOptions): AsyncGenerator<ParquetRecord | BadRow> {
  const batchSize = options.batchSize ?? 10_000;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new SourceError(`${path}: batchSize must be a positive integer, got ${batchSize}`);
  }
  const handle = await open(path, "r");
  try {
    const file = await fileBuffer(path, handle);
    let metadata: FileMetaData;
    let names: string[];
    try {
      metadata = await parquetMetadataAsync(file);
      names = parquetSchema(metadata).children.map((child) => child.element.name);
    } catch (error) {
      yield new BadRow(
        path,
        1,
        `not a complete Parquet file (truncated or corrupt: ${(error as Error).message}); none of its rows were read`,
        `${file.byteLength} bytes`,
      );
      return;
    }
    // Always named: hyparquet reads every column chunk the footer lists but gives back only those the schema
    // names, and a chunk of a damaged footer that the schema does not name failed unobserved, an unhandled
    // rejection that ended the process. Named columns, such chunks are not read at all.
    const columns = checkColumns(path, names, options.columns) ?? names;
    const groups = metadata.row_groups.length;
    let groupStart = 0;
    for (const [g, group] of metadata.row_groups.entries()) {
      const rows = Number(group.num_rows);
      const indexed = group.columns.every((chunk) =>
        !columns.includes(chunk.meta_data?.path_in_schema[0] ?? "") ||
        (chunk.offset_index_offset !== undefined && chunk.offset_index_length !== undefined)
      );
      // a read decodes its columns whole; rows are made from them `batchSize` at a time, as they are consumed
      const step = indexed ? batchSize : rows;
      for (let start = 0; start < rows; start += step) {
        const rowStart = groupStart + start;
        const rowEnd = groupStart + Math.min(start + step, rows);
        let read: ColumnsRead;
        try {
          read = await readColumns(file, metadata, columns, rowStart, rowEnd, indexed);
        } catch (error) {
          yield new BadRow(
            path,
            rowStart + 1,
            `row group ${g + 1} of ${groups} (rows ${groupStart + 1}–${groupStart + rows}) could not be read from row ${
              rowStart + 1
            }: ${(error as Error).message}`,
            `row group ${g + 1}`,
          );
          break;
        }
        for (let from = rowStart; from < rowEnd; from += batchSize) {
          yield* rowsOf(read, from, Math.min(from + batchSize, rowEnd));
        }
      }
      groupStart += rows;
    }
  } finally {
    await handle.close();
  }
}

/** A read's columns, each as its decoded values and the row its first value is. */
type ColumnsRead = { name: string; values: ArrayLike<unknown>; first: number }[];

/**
 * Decodes the columns of rows `rowStart`–`rowEnd` of one row group without making rows of them: 100,000 row
 * objects at once would outlive many yields and grow the old generation; a batch's worth die young.
 */
async function readColumns(
  file: AsyncBuffer,
  metadata: FileMetaData,
  columns: string[],
  rowStart: number,
  rowEnd: number,
  useOffsetIndex: boolean,
): Promise<ColumnsRead> {
  const parts = new Map<string, { rowStart: number; columnData: ArrayLike<unknown> }[]>();
  // useOffsetIndex: a narrowed read reads only the pages that hold its rows (parquetRead reads whole chunks unless told)
  await parquetRead({
    file,
    metadata,
    columns,
    rowStart,
    rowEnd,
    compressors,
    useOffsetIndex,
    onChunk: ({ columnName, columnData, rowStart: first }) => {
      const list = parts.get(columnName) ?? [];
      list.push({ rowStart: first, columnData });
      parts.set(columnName, list);
    },
  });
  return columns.map((name) => {
    const list = (parts.get(name) ?? []).sort((a, b) => a.rowStart - b.rowStart);
    if (list.length === 1) return { name, values: list[0]!.columnData, first: list[0]!.rowStart };
    const values: unknown[] = [];
    for (const part of list) for (let i = 0; i < part.columnData.length; i++) values.push(part.columnData[i]);
    return { name, values, first: list[0]?.rowStart ?? rowStart };
  });
}

function* rowsOf(read: ColumnsRead, from: number, to: number): Generator<ParquetRecord> {
  for (let row = from; row < to; row++) {
    const record: ParquetRecord = {};
    for (const { name, values, first } of read) setField(record, name, plain(values[row - first]));
    yield record;
  }
}

/** hyparquet's AsyncBuffer over positioned reads of one handle: only the byte ranges asked for are read. */
async function fileBuffer(path: string, handle: FileHandle): Promise<AsyncBuffer> {
  const { size } = await handle.stat();
  return {
    byteLength: size,
    async slice(start: number, end = size) {
      const bytes = new Uint8Array(Math.max(end - start, 0));
      const { bytesRead } = bytes.length === 0 ? { bytesRead: 0 } : await handle.read(bytes, 0, bytes.length, start);
      if (bytesRead < bytes.length) {
        throw new SourceError(`${path}: bytes ${start}–${end} asked for, the file ends at ${start + bytesRead}`);
      }
      return bytes.buffer;
    },
  };
}

function checkColumns(path: string, names: string[], columns: string[] | undefined): string[] | undefined {
  if (!columns) return undefined;
  const unknown = columns.filter((c) => !names.includes(c));
  if (unknown.length > 0) {
    throw new SourceError(
      `${path}: no column ${unknown.map((c) => JSON.stringify(c)).join(", ")} (columns: ${names.join(", ")})`,
    );
  }
  return columns;
}

function plain(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : String(value);
  }
  if (typeof value !== "object" || value === null || value instanceof Date) return value;
  if (value instanceof Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  }
  if (Array.isArray(value)) return value.map(plain);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
}
