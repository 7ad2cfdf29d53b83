import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fileWriter, ParquetWriter, schemaFromColumnData } from "hyparquet-writer";
import { isBadRow } from "../connectors/bad-rows.ts";
import { readParquet } from "../connectors/parquet/index.ts";
import { readXml } from "../connectors/xml/index.ts";
import { cacheDir } from "../resources/settings.ts";
import { analyticsColumns, type AnalyticsRow, analyticsRow } from "../samples/generate/analytics/write-analytics.ts";
import { order } from "../samples/generate/shop/orders.ts";
import { trackedShipment } from "../samples/generate/shipping/tracking.ts";
import { feedStart, NAMESPACE, shipmentXml } from "../samples/generate/shipping/write-tracking.ts";
import { LineFile } from "../samples/generate/sinks/line-file.ts";
import { createWorld } from "../samples/generate/world.ts";
import { peakRssMiB, pythonPeakRssMiB } from "./peak-rss.ts";
import { type BenchResult, result } from "./report.ts";

// Reading a large Parquet export and a large XML feed, ours against a reference reader of another maintained
// library on the same file, each in a process of its own so that its peak RSS is its own.

/** The size of each generated file (default 1 GB); both are kept in the cache and made again only when missing. */
const targetBytes = Number(process.env.FILES_BENCH_BYTES ?? 1_000_000_000);
const benchDir = join(cacheDir, "bench", "sources-files");
const maxRssMiB = 300;
/** The reference readers, pinned, from PyPI into a virtual environment of the cache. */
const referencePackages = ["pyarrow==25.0.1", "lxml==6.1.3"];
const log = (message: string) => console.log(`sources-files: ${message}`);

/** What one reader measured on one file, as its process prints it. */
interface Reading {
  records: number;
  seconds: number;
  maxRssMiB: number;
}

/** A Python with pyarrow and lxml: a venv in the cache, filled by pip the first time. */
function referencePython(): string {
  const venv = join(cacheDir, "bench", "python");
  const python = join(venv, "bin", "python");
  if (!existsSync(python)) run("python3", ["-m", "venv", venv]);
  if (spawnSync(python, ["-c", "import pyarrow, lxml"]).status !== 0) {
    log(`installing ${referencePackages.join(", ")} into ${venv}`);
    run(python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", ...referencePackages]);
  }
  return python;
}

function run(command: string, args: string[]): string {
  const child = spawnSync(command, args, { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  if (child.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${child.status ?? child.signal}):\n${child.stderr}`);
  }
  return child.stdout;
}

const reading = (output: string): Reading => JSON.parse(output.trim().split("\n").at(-1)!) as Reading;

/** Our reader over `path`, in a fresh Node process (this file, run with `--measure`), with V8 flags if given. */
function measureOurs(format: "parquet" | "xml", path: string, v8Flags: string[] = []): Reading {
  const script = fileURLToPath(import.meta.url);
  return reading(run(process.execPath, [...process.execArgv, ...v8Flags, script, "--measure", format, path]));
}

/**
 * Node sizes its young generation for the allocation rate: decoding Parquet allocates fast, and the heap it
 * keeps grows past what is live (under ~120 MiB here). Capping the semi-space trades time for memory.
 */
const smallYoungGeneration = ["--max-semi-space-size=2"];

const pythonParquet = `
import json, re, sys, time
import pyarrow.parquet as pq
start = time.perf_counter()
records = 0
for batch in pq.ParquetFile(sys.argv[1]).iter_batches(batch_size=10000):
    records += len(batch.to_pylist())
print(json.dumps({"records": records, "seconds": time.perf_counter() - start,
                  "maxRssMiB": ${pythonPeakRssMiB}}))
`;

// lxml's streaming idiom: iterparse on the record's end, the record made a dict as readXml makes an object
// (attributes and children by local name, repeated ones as lists, text), then the element and its
// predecessors freed.
const pythonXml = `
import json, re, sys, time
from lxml import etree
def local(name):
    return name.rsplit("}", 1)[-1]
def add(d, key, value):
    if key not in d: d[key] = value
    elif isinstance(d[key], list): d[key].append(value)
    else: d[key] = [d[key], value]
def value(el, record=False):
    d = {}
    for k, v in el.attrib.items(): add(d, local(k), v)
    for child in el: add(d, local(child.tag), value(child))
    text = el.text or ""
    if not d and not record: return text
    if text.strip(): d["#text"] = text.strip()
    return d
start = time.perf_counter()
records = 0
for _, el in etree.iterparse(sys.argv[1], events=("end",), tag="{${NAMESPACE}}shipment"):
    value(el, True)
    records += 1
    el.clear(keep_tail=True)
    while el.getprevious() is not None:
        del el.getparent()[0]
print(json.dumps({"records": records, "seconds": time.perf_counter() - start,
                  "maxRssMiB": ${pythonPeakRssMiB}}))
`;

/** Writes `path` through `write` into a temporary name first, so an interrupted run leaves no half file behind. */
async function generateOnce(path: string, write: (tmp: string) => Promise<void> | void): Promise<void> {
  if (existsSync(path)) return;
  mkdirSync(benchDir, { recursive: true });
  const tmp = `${path}.partial`;
  rmSync(tmp, { force: true });
  log(`generating ${path} (about ${(targetBytes / 1e9).toFixed(1)} GB, once)`);
  await write(tmp);
  renameSync(tmp, path);
}

/**
 * The sample analytics export's rows, scaled up: a block of 100,000 orders of the sample world written again
 * and again (order ids made unique per block) in row groups of 100,000 until the file has `targetBytes`.
 */
function writeParquet(path: string): void {
  const world = createWorld(100_000, 7);
  const block: AnalyticsRow[] = [];
  for (let i = 0; i < world.sizes.orders; i++) block.push(analyticsRow(world, order(world, i)));
  const schema = schemaFromColumnData({ columnData: analyticsColumns.map((c) => ({ ...c, data: [] })) });
  const writer = new ParquetWriter({ writer: fileWriter(path), schema });
  for (let n = 0; n === 0 || statSync(path).size < targetBytes; n++) {
    const columnData = analyticsColumns.map(({ name }) => ({
      name,
      data: name === "order_id" ? block.map((row) => `${row.order_id}-${n}`) : block.map((row) => row[name]),
    }));
    void writer.write({ columnData, rowGroupSize: block.length });
  }
  void writer.finish();
}

/** The sample tracking feed's shipments, scaled up: those of a large world, repeated with ids made unique per round. */
async function writeXml(path: string): Promise<void> {
  const world = createWorld(200_000, 7);
  const shipments: string[] = [];
  let events = 0;
  for (let i = 0; i < world.sizes.orders; i++) {
    const shipment = trackedShipment(world.seed, order(world, i), events);
    if (!shipment) continue;
    events += shipment.events.length;
    shipments.push(shipmentXml(shipment));
  }
  const file = new LineFile(path);
  for (const line of feedStart()) await file.write(line);
  let written = 0;
  for (let round = 0; written < targetBytes; round++) {
    for (const xml of shipments) {
      const unique = xml.replace(/"EV-(\d+)"/g, `"EV-${round}-$1"`).replace(/>SHP-(\d+)</, `>SHP-${round}-$1<`);
      written += unique.length + 1;
      await file.write(unique);
    }
  }
  await file.write("</feed>");
  await file.close();
}

async function compare(
  format: "parquet" | "xml",
  path: string,
  reference: { name: string; script: string },
): Promise<BenchResult[]> {
  const python = referencePython();
  const gb = (statSync(path).size / 1e9).toFixed(2);
  // which side reads first alternates between runs, so neither always finds the file in the page cache first
  const oursFirst = Number(process.env.BENCH_RUN_INDEX ?? 1) % 2 === 1;
  const readReference = () => reading(run(python, ["-c", reference.script, path]));
  let ours: Reading;
  let theirs: Reading;
  if (oursFirst) {
    ours = measureOurs(format, path);
    theirs = readReference();
  } else {
    theirs = readReference();
    ours = measureOurs(format, path);
  }
  if (ours.records !== theirs.records) {
    throw new Error(`${format}: we read ${ours.records} records, ${reference.name} ${theirs.records}`);
  }
  log(
    `${format}: ${ours.records} records, ours ${ours.seconds.toFixed(1)} s (${
      ours.maxRssMiB.toFixed(0)
    } MiB), ${reference.name} ${theirs.seconds.toFixed(1)} s (${theirs.maxRssMiB.toFixed(0)} MiB)`,
  );
  const what = format === "parquet" ? "rows" : "records";
  const capped = format === "parquet" ? measureOurs(format, path, smallYoungGeneration) : undefined;
  return [
    result(
      `${format}: ${what}/s reading a ${gb} GB file, ${
        format === "parquet" ? "every column" : "each <shipment> as an object"
      } (${reference.name} on the same file)`,
      ours.records / ours.seconds,
      theirs.records / theirs.seconds,
      `${what}/s`,
      // the reference makes the same row objects (Python dicts): ours must be at least as fast
      ">= 1",
      `${ours.records} ${what}; ours ${ours.seconds.toFixed(1)} s, ${reference.name} ${theirs.seconds.toFixed(1)} s`,
    ),
    result(
      `${format}: peak RSS of the process reading the ${gb} GB file`,
      ours.maxRssMiB,
      null,
      "MiB",
      `< ${maxRssMiB}`,
      `${reference.name}: ${theirs.maxRssMiB.toFixed(0)} MiB`,
    ),
    ...(capped
      ? [result(
        `${format}: peak RSS of the process reading the ${gb} GB file, node ${smallYoungGeneration.join(" ")}`,
        capped.maxRssMiB,
        null,
        "MiB",
        `< ${maxRssMiB}`,
        `${(capped.records / capped.seconds).toFixed(0)} ${what}/s (${capped.seconds.toFixed(1)} s) with the flag`,
      )]
      : []),
  ];
}

/**
 * readParquet over a ~1 GB Parquet export (the sample analytics rows, row groups of 100,000, snappy) against
 * pyarrow's `ParquetFile.iter_batches` turned into Python dicts (`to_pylist`), rows/s side by side; and the
 * peak RSS of the process reading it, under 300 MiB.
 */
export async function parquetBench(): Promise<BenchResult[]> {
  const path = join(benchDir, `orders-${targetBytes}.parquet`);
  await generateOnce(path, writeParquet);
  return compare("parquet", path, { name: "pyarrow 25 iter_batches + to_pylist", script: pythonParquet });
}

/**
 * readXml over a ~1 GB tracking feed (the sample feed's shipments, each a record with its scans) against lxml's
 * `iterparse` making the same dicts and freeing each element, records/s side by side; and the peak RSS of the
 * process reading it, under 300 MiB.
 */
export async function xmlBench(): Promise<BenchResult[]> {
  const path = join(benchDir, `tracking-${targetBytes}.xml`);
  await generateOnce(path, writeXml);
  return compare("xml", path, { name: "lxml 6 iterparse", script: pythonXml });
}

/** `node bench/sources-files.ts --measure parquet|xml <file>`: our reader alone, as `measureOurs` runs it. */
async function measure(format: string, path: string): Promise<void> {
  const started = performance.now();
  let records = 0;
  const rows = format === "parquet" ? readParquet(path) : readXml(path, { record: "shipment" });
  for await (const row of rows) {
    if (isBadRow(row)) throw new Error(row.__error);
    records += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ records, seconds, maxRssMiB: peakRssMiB() }));
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "--measure") {
  await measure(process.argv[3]!, process.argv[4]!);
}
