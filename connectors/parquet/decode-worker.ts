/**
 * The Parquet decoding behind `readParquet`, run in a worker thread of its own (see read-parquet.ts): the
 * footer, then one row group at a time, made into rows a batch at a time, each batch sent when the reader
 * asks for the next. Decoding allocates fast and briefly; in its own thread, with a small young generation,
 * that garbage is collected often instead of growing the reading process's heap.
 */
import { type FileHandle, open } from "node:fs/promises";
import { parentPort, workerData } from "node:worker_threads";
import * as zlib from "node:zlib";
import {
  type AsyncBuffer,
  type Compressors,
  type FileMetaData,
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
} from "hyparquet";
import { SourceError } from "../bad-rows.ts";

/** A row keyed by column name (`ParquetRecord`, see read-parquet.ts). */
type ParquetRecord = Record<string, unknown>;

/** What the worker sends for each request: a batch of rows, a part of the file that could not be read, or the end. */
export type DecoderMessage =
  | { rows: ParquetRecord[] }
  | { bad: { line: number; reason: string; raw: string } }
  | { end: true }
  | { error: { name: string; message: string; code?: string } };

/** What the worker is started with (`workerData`). */
export interface DecoderInput {
  path: string;
  columns?: string[];
  batchSize: number;
}

const compressors: Compressors = {
  GZIP: (input) => new Uint8Array(zlib.gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(zlib.brotliDecompressSync(input)),
  ...("zstdDecompressSync" in zlib &&
    { ZSTD: (input: Uint8Array) => new Uint8Array((zlib as unknown as ZstdZlib).zstdDecompressSync(input)) }),
};
type ZstdZlib = { zstdDecompressSync(input: Uint8Array): Buffer };

/** The file's rows in batches of `batchSize`, and what could not be read where it is: see `readParquet`. */
export async function* decodeParquet(
  { path, columns: wanted, batchSize }: DecoderInput,
): AsyncGenerator<Exclude<DecoderMessage, { end: true } | { error: unknown }>> {
  const handle = await open(path, "r");
  try {
    const file = await fileBuffer(path, handle);
    let metadata: FileMetaData;
    try {
      metadata = await parquetMetadataAsync(file);
    } catch (error) {
      yield {
        bad: {
          line: 1,
          reason: `not a complete Parquet file (truncated or corrupt: ${
            (error as Error).message
          }); none of its rows were read`,
          raw: `${file.byteLength} bytes`,
        },
      };
      return;
    }
    const columns = checkColumns(path, metadata, wanted);
    const groups = metadata.row_groups.length;
    let groupStart = 0;
    for (const [g, group] of metadata.row_groups.entries()) {
      const rows = Number(group.num_rows);
      const indexed = group.columns.every((chunk) =>
        (columns && !columns.includes(chunk.meta_data?.path_in_schema[0] ?? "")) ||
        (chunk.offset_index_offset !== undefined && chunk.offset_index_length !== undefined)
      );
      // a read decodes its columns whole; rows are made from them `batchSize` at a time, as they are asked for
      const step = indexed ? batchSize : rows;
      for (let start = 0; start < rows; start += step) {
        const rowStart = groupStart + start;
        const rowEnd = groupStart + Math.min(start + step, rows);
        let read: ColumnsRead;
        try {
          read = await readColumns(file, metadata, columns, rowStart, rowEnd, indexed);
        } catch (error) {
          yield {
            bad: {
              line: rowStart + 1,
              reason: `row group ${g + 1} of ${groups} (rows ${groupStart + 1}–${
                groupStart + rows
              }) could not be read from row ${rowStart + 1}: ${(error as Error).message}`,
              raw: `row group ${g + 1}`,
            },
          };
          break;
        }
        for (let from = rowStart; from < rowEnd; from += batchSize) {
          yield { rows: rowsOf(read, from, Math.min(from + batchSize, rowEnd)) };
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
 * objects at once would outlive many batches and grow the old generation; a batch's worth die young.
 */
async function readColumns(
  file: AsyncBuffer,
  metadata: FileMetaData,
  columns: string[] | undefined,
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
  const names = columns ?? parquetSchema(metadata).children.map((child) => child.element.name);
  return names.map((name) => {
    const list = (parts.get(name) ?? []).sort((a, b) => a.rowStart - b.rowStart);
    if (list.length === 1) return { name, values: list[0]!.columnData, first: list[0]!.rowStart };
    const values: unknown[] = [];
    for (const part of list) for (let i = 0; i < part.columnData.length; i++) values.push(part.columnData[i]);
    return { name, values, first: list[0]?.rowStart ?? rowStart };
  });
}

function rowsOf(read: ColumnsRead, from: number, to: number): ParquetRecord[] {
  const rows: ParquetRecord[] = [];
  for (let row = from; row < to; row++) {
    const record: ParquetRecord = {};
    for (const { name, values, first } of read) record[name] = plain(values[row - first]);
    rows.push(record);
  }
  return rows;
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

function checkColumns(path: string, metadata: FileMetaData, columns: string[] | undefined): string[] | undefined {
  if (!columns) return undefined;
  const names = parquetSchema(metadata).children.map((child) => child.element.name);
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

// As a worker: each message from the reader asks for the next batch; one is answered before the next is asked.
if (parentPort && (workerData as { parquet?: DecoderInput } | undefined)?.parquet) {
  const port = parentPort;
  const batches = decodeParquet((workerData as { parquet: DecoderInput }).parquet);
  port.on("message", async () => {
    let message: DecoderMessage;
    try {
      const next = await batches.next();
      message = next.done ? { end: true } : next.value;
    } catch (error) {
      const { name, message: text, code } = error as NodeJS.ErrnoException;
      message = { error: { name, message: text, code } };
    }
    port.postMessage(message);
  });
}
