import { randomUUID } from "node:crypto";
import { mkdir, rename, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { sql } from "kysely";
import { selectAssets } from "../selection.ts";
import type { EvaluationContext, Evaluator } from "./evaluation.ts";
import { type FileSensorDefinition, type LandedFile, scanFolder, type ScannedFile, sha256Of } from "./file-sensor.ts";
import { recordTick, type StoredRequest } from "./run-requests.ts";

/** A file's row in the sensor's cursor: the version it last requested a run for. */
interface Known {
  size: number;
  mtimeMs: number;
  sha256: string;
  status: string;
}

const listed = (
  items: string[],
) => (items.length <= 5 ? items.join(", ") : `${items.slice(0, 5).join(", ")} and ${items.length - 5} more`);

/**
 * Evaluates a file sensor. The cursor is `ingest.sensor_files`: per path, the size, mtime and
 * content hash of the version a run was requested for. A file is new when it has no row, changed
 * when its size or mtime differ and its content hash too (a touched file is not new). Its row, the
 * tick and the run request are written in one transaction, the row with a compare-and-set, so a
 * restarted daemon, or a second one, neither misses nor repeats a file. In memory: the files now
 * in the folder, nothing else.
 */
export class FileSensorEvaluator implements Evaluator {
  readonly name: string;
  readonly kind = "file-sensor";
  readonly #sensor: FileSensorDefinition;
  readonly #ctx: EvaluationContext;
  readonly #folder: string;
  readonly #keys = new Map<string, string[]>();
  /** Size and mtime of each file at the previous scan: a file still being written changes between scans. */
  #observed = new Map<string, { size: number; mtimeMs: number }>();
  /** Cursor rows of the files in the folder (null: none). */
  #known = new Map<string, Known | null>();
  /** Runs requested whose files are not yet marked processed (unknown after a start). */
  #outstanding = true;
  #next = Date.now();

  constructor(sensor: FileSensorDefinition, ctx: EvaluationContext, folder: string) {
    this.name = sensor.name;
    this.#sensor = sensor;
    this.#ctx = ctx;
    this.#folder = folder;
    for (const rule of sensor.files) this.#keys.set(rule.select, [...selectAssets(ctx.graph, rule.select)]);
  }

  nextAt(): number {
    return this.#next;
  }

  async evaluate(): Promise<void> {
    this.#next = Date.now() + this.#sensor.intervalMs;
    const tickTime = this.#ctx.clock.now();
    await this.#settleProcessed();
    const { files, names } = await scanFolder(this.#sensor, this.#folder);
    await this.#loadKnown(files);

    const waiting: string[] = [];
    const landed: { file: LandedFile; scanned: ScannedFile }[] = [];
    for (const file of files) {
      const known = this.#known.get(file.path);
      if (known && known.status !== "moved" && known.size === file.size && known.mtimeMs === file.mtimeMs) continue;
      const incomplete = this.#incomplete(file, names);
      if (incomplete) {
        waiting.push(`${file.path} (${incomplete})`);
        continue;
      }
      const absolutePath = join(this.#folder, file.path);
      const sha256 = await sha256Of(absolutePath);
      const after = await stat(absolutePath).catch(() => undefined);
      if (!after || after.size !== file.size || after.mtimeMs !== file.mtimeMs) {
        waiting.push(`${file.path} (still being written)`);
        continue;
      }
      if (known && known.status !== "moved" && known.sha256 === sha256) {
        await this.#touched(file);
        continue;
      }
      landed.push({
        file: { path: file.path, absolutePath, size: file.size, mtimeMs: file.mtimeMs, sha256 },
        scanned: file,
      });
    }
    this.#observed = new Map(files.map((f) => [f.path, { size: f.size, mtimeMs: f.mtimeMs }]));

    if (landed.length > 0) return this.#request(landed, tickTime);
    if (waiting.length > 0) {
      return this.#ctx.ticks.record({
        instigator: this.name,
        kind: "file-sensor",
        tickTime,
        status: "evaluated",
        reason: `waiting for ${waiting.length} file${waiting.length === 1 ? "" : "s"} to complete: ${listed(waiting)}`,
      });
    }
    return this.#ctx.ticks.record({
      instigator: this.name,
      kind: "file-sensor",
      tickTime,
      status: "skipped",
      reason: "no new or changed files",
    });
  }

  #incomplete(file: ScannedFile, names: Set<string>): string | undefined {
    const complete = this.#sensor.complete;
    if ("marker" in complete) {
      return names.has(`${file.path}${complete.marker}`) ? undefined : `no marker ${file.path}${complete.marker}`;
    }
    const previous = this.#observed.get(file.path);
    if (!previous) return "first seen";
    if (previous.size !== file.size || previous.mtimeMs !== file.mtimeMs) return "still being written";
    if (Date.now() - file.mtimeMs < complete.quietMs) return "still being written";
    return undefined;
  }

  async #request(landed: { file: LandedFile; scanned: ScannedFile }[], tickTime: Date): Promise<void> {
    const { db } = this.#ctx;
    const prepared = landed.map(({ file, scanned }) => {
      try {
        const partition = scanned.rule.partition?.(file);
        const request: StoredRequest & { runId: string } = {
          runId: randomUUID(),
          selection: scanned.rule.select,
          keys: this.#keys.get(scanned.rule.select)!,
          partitions: partition === undefined ? undefined : [partition],
          tags: { ...this.#sensor.tags, "ingest/file": file.path, "ingest/file_sha256": file.sha256 },
        };
        return { file, request };
      } catch (error) {
        return { file, error: `${file.path}: ${error instanceof Error ? error.message : String(error)}` };
      }
    });
    const runIds = await db.transaction().execute(async (tx) => {
      const claimed = [];
      for (const entry of prepared) {
        const { file } = entry;
        const row = await sql<{ path: string }>`
          insert into ingest.sensor_files as f (sensor, path, size, mtime_ms, sha256, status, run_id, processed_at)
          values (${this.name}, ${file.path}, ${file.size}, ${file.mtimeMs}, ${file.sha256}, ${
          entry.request ? "requested" : "failed"
        }, ${entry.request?.runId ?? null}, ${entry.request ? null : new Date()})
          on conflict (sensor, path) do update set size = excluded.size, mtime_ms = excluded.mtime_ms, sha256 = excluded.sha256,
            status = excluded.status, run_id = excluded.run_id, seen_at = now(), processed_at = excluded.processed_at
          where f.status = 'moved' or (f.size, f.mtime_ms, f.sha256) is distinct from (excluded.size, excluded.mtime_ms, excluded.sha256)
          returning path`.execute(tx);
        // No row: another daemon recorded this version of the file first.
        if (row.rows.length > 0) claimed.push(entry);
      }
      if (claimed.length === 0) return [];
      const requests = claimed.flatMap((c) => (c.request ? [c.request] : []));
      const errors = claimed.flatMap((c) => (c.error ? [c.error] : []));
      const files = claimed.map((c) => c.file.path);
      return recordTick(
        tx,
        {
          instigator: this.name,
          kind: "file-sensor",
          tickTime,
          status: requests.length > 0 ? "requested" : "failed",
          reason: [`${files.length} new or changed file${files.length === 1 ? "" : "s"}: ${listed(files)}`, ...errors]
            .join("; "),
          cursor: {
            files: claimed.map(({ file }) => ({
              path: file.path,
              size: file.size,
              mtimeMs: file.mtimeMs,
              sha256: file.sha256,
            })),
          },
          requests,
        },
        this.#ctx.daemon,
      );
    });
    for (const { file, request } of prepared) {
      this.#known.set(file.path, {
        size: file.size,
        mtimeMs: file.mtimeMs,
        sha256: file.sha256,
        status: request ? "requested" : "failed",
      });
    }
    this.#outstanding = true;
    await this.#ctx.ticks.interrupt(this.name);
    await this.#ctx.submit(runIds ?? []);
  }

  /** A file whose mtime changed but whose content did not: the cursor takes its new mtime, no run. */
  async #touched(file: ScannedFile): Promise<void> {
    await this.#ctx.db
      .updateTable("ingest.sensor_files")
      .set({ size: file.size, mtime_ms: file.mtimeMs })
      .where("sensor", "=", this.name)
      .where("path", "=", file.path)
      .execute();
    const known = this.#known.get(file.path)!;
    this.#known.set(file.path, { ...known, size: file.size, mtimeMs: file.mtimeMs });
  }

  /** Cursor rows of files seen for the first time; rows of files gone from the folder are forgotten. */
  async #loadKnown(files: ScannedFile[]): Promise<void> {
    const present = new Set(files.map((f) => f.path));
    for (const path of this.#known.keys()) if (!present.has(path)) this.#known.delete(path);
    const unseen = files.filter((f) => !this.#known.has(f.path)).map((f) => f.path);
    if (unseen.length === 0) return;
    for (const path of unseen) this.#known.set(path, null);
    const rows = await this.#ctx.db
      .selectFrom("ingest.sensor_files")
      .select(["path", "size", "mtime_ms", "sha256", "status"])
      .where("sensor", "=", this.name)
      .where("path", "in", unseen)
      .execute();
    for (const row of rows) {
      this.#known.set(row.path, {
        size: Number(row.size),
        mtimeMs: row.mtime_ms,
        sha256: row.sha256,
        status: row.status,
      });
    }
  }

  /** Files whose runs finished: marked succeeded or failed, and moved when the sensor says so. */
  async #settleProcessed(): Promise<void> {
    if (!this.#outstanding) return;
    const { rows } = await sql<
      { path: string; size: number; mtime_ms: number; run_id: string; run_status: string | null }
    >`
      select f.path, f.size, f.mtime_ms, f.run_id, r.status as run_status
      from ingest.sensor_files f left join ingest.runs r on r.id = f.run_id
      where f.sensor = ${this.name} and f.status = 'requested'`.execute(this.#ctx.db);
    this.#outstanding = rows.some((r) =>
      r.run_status === null || r.run_status === "queued" || r.run_status === "running"
    );
    for (const row of rows) {
      if (row.run_status === null || row.run_status === "queued" || row.run_status === "running") continue;
      let status = row.run_status === "succeeded" ? "succeeded" : "failed";
      if (status === "succeeded" && typeof this.#sensor.processed === "object" && (await this.#move(row))) {
        status = "moved";
      }
      await this.#ctx.db
        .updateTable("ingest.sensor_files")
        .set({ status: status as "succeeded" | "failed" | "moved", processed_at: new Date() })
        .where("sensor", "=", this.name)
        .where("path", "=", row.path)
        .where("run_id", "=", row.run_id)
        .execute();
      const known = this.#known.get(row.path);
      if (known) this.#known.set(row.path, { ...known, status });
    }
  }

  /** Moves a processed file out of the landing folder, unless it changed since its run was requested. */
  async #move(row: { path: string; size: number; mtime_ms: number }): Promise<boolean> {
    const from = join(this.#folder, row.path);
    const now = await stat(from).catch(() => undefined);
    if (!now || now.size !== Number(row.size) || now.mtimeMs !== row.mtime_ms) return false;
    const to = join(this.#folder, (this.#sensor.processed as { moveTo: string }).moveTo, row.path);
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
    const complete = this.#sensor.complete;
    if ("marker" in complete) await rename(`${from}${complete.marker}`, `${to}${complete.marker}`).catch(() => {});
    return true;
  }
}
