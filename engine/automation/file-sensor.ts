import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { isAbsolute, join, matchesGlob, resolve, sep } from "node:path";

/** A file in a landing folder, complete and hashed. */
export interface LandedFile {
  /** Relative to the sensor's folder, with `/` separators. */
  path: string;
  /** The file's absolute path. */
  absolutePath: string;
  /** Its size in bytes. */
  size: number;
  /** Its last modification time, in epoch milliseconds. */
  mtimeMs: number;
  /** SHA-256 of its content, hex: a file rewritten with the same content requests no new run. */
  sha256: string;
}

/** Files of one kind in the landing folder, and the assets that read them. */
export interface FileRule {
  /** A glob relative to the landing folder, as `path.matchesGlob` reads it: `*.jsonl`, `exports/**\/*.csv`. */
  glob: string;
  /** The assets that read these files (a selection); a file requests a run of exactly these. */
  select: string;
  /** The file as a partition of the selection's partitioned assets, e.g. the date in its name. */
  partition?: (file: LandedFile) => string;
}

/**
 * When a file is complete: `quietMs` after its last write (size and mtime unchanged over two scans
 * and the mtime that long ago), or once a marker file `<file><marker>` exists (`.done`, `.ok`).
 * Writers that pause longer than the quiet period, or copy with the old mtime, need a marker or an
 * atomic rename from a dot-file name (dot-files are never picked up).
 */
export type Completeness = { quietMs: number } | { marker: string };

/**
 * What {@link defineFileSensor} takes. Checked with the rest of the project by `defineDefinitions`: a
 * bad name, an empty folder or glob, or a selection naming unknown assets is a `DefinitionError`.
 */
export interface FileSensorSpec {
  /** Unique among schedules and sensors: letters, digits and `_`. */
  name: string;
  /** What it is for, for people reading the definitions. */
  description?: string;
  /** The landing folder: absolute, or relative to the sources folder (`INGEST_SOURCES_DIR`, default `.ingest/sources`). */
  folder: string;
  /**
   * Which files it watches and what each requests; a file takes the first rule whose glob matches it.
   * Dot-files, markers and the `moveTo` folder are never picked up.
   */
  files: FileRule[];
  /** Default `{ quietMs: 500 }`. */
  complete?: Completeness;
  /**
   * After a file's run succeeded: `keep` it where it is (its cursor row records it as processed), or
   * move it to a folder relative to the landing folder. Default `keep`, for assets that re-read the
   * whole folder.
   */
  processed?: "keep" | { moveTo: string };
  /** How often the folder is scanned (default 250 ms). */
  intervalMs?: number;
  /** Tags of the runs it requests, beside `ingest/file` and `ingest/file_sha256`. */
  tags?: Record<string, string>;
}

/** A declared file sensor, defaults filled in: what `defineFileSensor` returns. */
export interface FileSensorDefinition extends FileSensorSpec {
  /** Always `file-sensor`. */
  kind: "file-sensor";
  /** As given, or `{ quietMs: 500 }`. */
  complete: Completeness;
  /** As given, or `keep`. */
  processed: "keep" | { moveTo: string };
  /** As given, or 250. */
  intervalMs: number;
}

/**
 * Declares a sensor on a landing folder: each new or changed file, once complete, requests a run of
 * the assets that read it, tagged with the file (`ingest/file`, its path in the folder, and
 * `ingest/file_sha256`), exactly once however often the daemon restarts. A missing folder is no
 * error: it is watched for. It only fills in defaults; `defineDefinitions` checks it.
 *
 * @example
 * ```ts
 * export const productsFileChanged = defineFileSensor({
 *   name: "products_file",
 *   folder: fileURLToPath(new URL("../data", import.meta.url)),
 *   files: [{ glob: "products.csv", select: "shop/products+" }],
 *   complete: { quietMs: 2_000 },
 * });
 * ```
 *
 * @example Relative to the sources folder; each file is moved to `done/` once its run succeeded
 * ```ts
 * export const webhooks = defineFileSensor({
 *   name: "chat_webhooks",
 *   folder: "chat/webhooks",
 *   files: [{ glob: "*.jsonl", select: "chat/messages" }],
 *   processed: { moveTo: "done" },
 * });
 * ```
 */
export function defineFileSensor(spec: FileSensorSpec): FileSensorDefinition {
  return {
    ...spec,
    kind: "file-sensor",
    complete: spec.complete ?? { quietMs: 500 },
    processed: spec.processed ?? "keep",
    intervalMs: spec.intervalMs ?? 250,
  };
}

export function landingFolder(sensor: FileSensorDefinition, sourcesDir: string): string {
  return isAbsolute(sensor.folder) ? sensor.folder : resolve(sourcesDir, sensor.folder);
}

export interface ScannedFile {
  path: string;
  rule: FileRule;
  size: number;
  mtimeMs: number;
}

/** The folder's files that a rule matches (the first that does), without dot-files, markers and the processed folder. */
export async function scanFolder(
  sensor: FileSensorDefinition,
  folder: string,
): Promise<{ files: ScannedFile[]; names: Set<string> }> {
  let entries: string[];
  try {
    entries = await readdir(folder, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { files: [], names: new Set() };
    throw error;
  }
  const names = new Set(entries.map((e) => (sep === "/" ? e : e.split(sep).join("/"))));
  const moved = typeof sensor.processed === "object" ? `${sensor.processed.moveTo.replace(/\/+$/, "")}/` : undefined;
  const marker = "marker" in sensor.complete ? sensor.complete.marker : undefined;
  const files: ScannedFile[] = [];
  for (const path of names) {
    if (path.split("/").some((part) => part.startsWith("."))) continue;
    if (moved && path.startsWith(moved)) continue;
    if (marker && path.endsWith(marker)) continue;
    const rule = sensor.files.find((r) => matchesGlob(path, r.glob));
    if (!rule) continue;
    // A file may vanish between the listing and its stat (moved by its writer): it is simply not there.
    const info = await stat(join(folder, path)).catch(() => undefined);
    if (!info?.isFile()) continue;
    files.push({ path, rule, size: info.size, mtimeMs: info.mtimeMs });
  }
  return { files, names };
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
