import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Driver } from "neo4j-driver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNeo4j } from "../../connectors/neo4j/index.ts";
import { Staging } from "../../connectors/staging/index.ts";
import type { AssetGraph } from "../../engine/asset-graph.ts";
import { assetGraphOf } from "../../engine/definitions.ts";
import { getRun, requestRun } from "../../engine/runs.ts";
import { prepareDatabase } from "../../engine/worker.ts";
import { createPool, metadataDb, type pg } from "../../resources/postgres.ts";
import { packageRoot, settings } from "../../resources/settings.ts";
import { serverUser } from "../../stack/server-user.ts";
import { eventually } from "../daemon-support.ts";
import { databaseUrlOf, diskFullDefinitions } from "../disk-full-project.ts";
import { ingest } from "../processes.ts";
import { recordFigure } from "../reliability.ts";
import { dropLabels } from "../stream-project.ts";
import { materialize } from "../support.ts";

/**
 * The staging database out of disk space. Its tables live in a tablespace on a 16 MB tmpfs the test
 * mounts (so: root, and the local stack's Postgres, which runs as the `postgres` user); a file of the
 * test's fills it but for a megabyte, and a load of about 5 MB runs in an `ingest worker` process. The run
 * fails saying the staging database is out of disk space, nothing of it is staged, loaded into Neo4j or
 * dead-lettered; once the file is gone the same load completes, equal to a clean run of it.
 */
const id = Date.now().toString(36);
const prefix = `dfull_${id}`;
const clean = `dfullclean_${id}`;
const tablespace = `ingest_disk_full_${id}`;
const database = `ingest_disk_full_${id}`;
const canMount = tmpfsMountable();

/** Root, the local stack's Postgres (whose server user gets the tablespace), and a kernel that lets us mount a tmpfs. */
function tmpfsMountable(): boolean {
  if (process.getuid?.() !== 0 || settings().external.postgres) return false;
  const probe = mkdtempSync(join(tmpdir(), "ingest-mount-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "ingest-mount-probe", probe], { stdio: "ignore" });
    execFileSync("umount", [probe]);
    return true;
  } catch {
    return false; // a container without the capability to mount
  } finally {
    rmdirSync(probe);
  }
}

let pool: pg.Pool;
let neo4j: Driver;
let dir: string;
let mount: string;
let stagingPool: pg.Pool;
let staging: Staging;
let graph: AssetGraph;
let worker: ChildProcess | undefined;
const cleanup: (() => unknown)[] = [];
const db = () => metadataDb(pool);

/** Reviews of about a kilobyte each (`edited` changes every text), `invalid` of them rated 9, and one line that is not JSON. */
function reviews(count: number, invalid: number, edited = ""): string {
  const text = (i: number) => createHash("sha256").update(`review ${i}${edited}`).digest("hex").repeat(16);
  const lines = [
    ...Array.from(
      { length: count },
      (_, i) => ({ reviewId: `r${String(i).padStart(5, "0")}`, rating: 1 + i % 5, text: text(i) }),
    ),
    ...Array.from(
      { length: invalid },
      (_, i) => ({ reviewId: `bad${String(i).padStart(5, "0")}`, rating: 9, text: "?" }),
    ),
  ].map((r) => JSON.stringify(r));
  lines.splice(7, 0, "{not json");
  return lines.join("\n") + "\n";
}

const freeBytes = () => {
  const fs = statfsSync(mount);
  return fs.bavail * fs.bsize;
};

beforeAll(async () => {
  if (!canMount) return;
  pool = createPool(settings().databaseUrl);
  await prepareDatabase(pool);
  neo4j = connectNeo4j();
  cleanup.push(() => neo4j.close(), () => pool.end());
  dir = mkdtempSync(join(tmpdir(), "ingest-disk-full-"));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  // The server's user reaches the mount point from /tmp: the tmpfs it mounts there is its own.
  mount = mkdtempSync(join(tmpdir(), "ingest-tablespace-"));
  cleanup.push(() => rmdirSync(mount));
  const postgres = serverUser("postgres");
  execFileSync("mount", [
    "-t",
    "tmpfs",
    "-o",
    `size=16m,mode=0700,uid=${postgres.uid},gid=${postgres.gid}`,
    `ingest-disk-full-${id}`,
    mount,
  ]);
  cleanup.push(() => execFileSync("umount", [mount]));
  await pool.query(`create tablespace ${tablespace} location '${mount}'`);
  cleanup.push(() => pool.query(`drop tablespace if exists ${tablespace}`));
  // A staging database of its own, whose tables (and only they: temporary tables go to the database's own
  // tablespace) are made on the small one.
  await pool.query(`create database ${database}`);
  cleanup.push(() => pool.query(`drop database if exists ${database} with (force)`));
  await pool.query(`alter database ${database} set default_tablespace = ${tablespace}`);
  stagingPool = createPool(databaseUrlOf(database));
  staging = new Staging(stagingPool);
  cleanup.push(() => staging.close());
  cleanup.push(() => dropLabels(neo4j, [`DiskFullReview_${prefix}`, `DiskFullReview_${clean}`]));
  cleanup.push(async () => {
    await pool.query(`drop table if exists staging.${clean}_reviews`);
    await pool.query("delete from staging.load_cursors where consumer like $1", [`${clean}/%`]);
    await pool.query("delete from staging.tables where name = $1", [`${clean}_reviews`]);
  });

  const source = join(dir, "reviews.jsonl");
  const definitions = join(dir, "definitions.ts");
  writeFileSync(
    definitions,
    `import { diskFullDefinitions } from ${JSON.stringify(join(packageRoot, "test", "disk-full-project.ts"))};
export default diskFullDefinitions(${JSON.stringify(prefix)}, ${JSON.stringify({ database, source })});
`,
  );
  graph = assetGraphOf(diskFullDefinitions(prefix, { database, source }));
  const log = openSync(join(dir, "worker.log"), "a");
  worker = spawn(
    join(packageRoot, "node_modules", ".bin", "node"),
    [join(packageRoot, "cli", "main.ts"), "--definitions", definitions, "worker", "--concurrency", "2"],
    { stdio: ["ignore", log, log], env: { ...process.env, LOG_LEVEL: "info" } },
  );
  closeSync(log);
  cleanup.push(() => stopWorker());
});

// Every step is tried, so a failed one leaves no mount, tablespace or database behind the others.
afterAll(async () => {
  const failed: unknown[] = [];
  for (const step of cleanup.reverse()) await Promise.resolve().then(step).catch((error) => failed.push(error));
  if (failed.length > 0) throw failed[0];
});

async function stopWorker() {
  if (!worker || worker.exitCode !== null || worker.signalCode !== null) return;
  const exited = new Promise((resolve) => worker!.once("exit", resolve));
  worker.kill("SIGTERM");
  await exited;
}

/** Runs every asset of the project with the worker process, until the run has finished. */
async function run(source: string) {
  writeFileSync(join(dir, "reviews.jsonl"), source);
  const runId = await requestRun(db(), graph, { selection: graph.order.join(" "), keys: graph.order });
  return eventually(`run ${runId} to finish`, async () => {
    const run = await getRun(db(), runId);
    return run && ["succeeded", "failed", "canceled"].includes(run.status) ? run : undefined;
  }, 120_000);
}

/** The staging table as it is, by source key: every row, tombstones, versions and run ids included. */
async function rawRows(): Promise<Map<string, unknown>> {
  const { rows } = await stagingPool.query(`select * from staging.${prefix}_reviews`);
  return new Map(rows.map((row) => [row.source_key as string, row]));
}

/** The bytes the staging table's files take, its indexes and TOAST included. */
async function tableSize(): Promise<number> {
  const { rows } = await stagingPool.query("select pg_total_relation_size($1)::bigint as n", [
    `staging.${prefix}_reviews`,
  ]);
  return Number(rows[0].n);
}

/** The staged records of a table (no tombstones), as two runs that read the same source compare them. */
async function staged(s: Staging, table: string) {
  return (await s.read(table)).map((r) => [r.sourceKey, r.contentHash, r.record]);
}

/** The nodes of a label by key, with all their properties, or with those but lineage (`ingest…`). */
async function nodes(label: string, lineage = true): Promise<Map<string, Record<string, unknown>>> {
  const { records } = await neo4j.executeQuery(`MATCH (n:${label}) RETURN n`);
  return new Map(records.map((r) => {
    const props = r.get("n").properties as Record<string, unknown>;
    const kept = Object.entries(props).filter(([k]) => lineage || !k.startsWith("ingest"));
    return [props.reviewId as string, Object.fromEntries(kept)];
  }));
}

/** How many entries were added, removed or changed from `before` to `after`. */
function differences(before: Map<string, unknown>, after: Map<string, unknown>): number {
  const keys = new Set([...before.keys(), ...after.keys()]);
  return [...keys].filter((key) => JSON.stringify(before.get(key)) !== JSON.stringify(after.get(key))).length;
}

/** The dead letters of an asset, by run. */
async function deadLetters(assetKey: string): Promise<Map<string, number>> {
  const rows = await db().selectFrom("ingest.dead_letters").select(["run_id"]).select((e) =>
    e.fn.countAll<string>().as("n")
  ).where("asset_key", "=", assetKey).groupBy("run_id").execute();
  return new Map(rows.map((r) => [r.run_id, Number(r.n)]));
}

describe.skipIf(!canMount)("the staging database out of disk space", () => {
  it("fails the run saying so, stages, loads and dead-letters nothing of it; with space again the same load equals a clean run", async () => {
    const first = await run(reviews(300, 5));
    expect(first.status, first.error ?? "").toBe("succeeded");
    const rowsBefore = await rawRows();
    const nodesBefore = await nodes(`DiskFullReview_${prefix}`);
    const lettersBefore = await deadLetters(`${prefix}/reviews`);
    const sizeBefore = await tableSize();
    expect(rowsBefore.size).toBe(300);
    expect(nodesBefore.size).toBe(300);
    expect([...lettersBefore.values()]).toEqual([6]);

    // All but a megabyte taken; the next load is about five.
    const filler = join(mount, "filler");
    writeFileSync(filler, Buffer.alloc(freeBytes() - 1024 * 1024));
    const larger = reviews(4_000, 1_100, " (edited)");
    const full = await run(larger);
    expect(full.status).toBe("failed");
    const shown = ingest(["runs", "show", full.id], {});
    expect(shown.status, shown.stderr).toBe(0);
    const said =
      `the staging database ${database} is out of disk space: the load of 4,000 records into staging.${prefix}_reviews was rolled back, nothing of it is staged (could not extend file`;
    expect(shown.stdout).toContain(said);
    expect(shown.stdout).toMatch(/No space left on device; Check free disk space/);
    expect(readFileSync(join(dir, "worker.log"), "utf8")).toContain(said);
    // The merge was writing into the table when the disk filled (its files grew), yet nothing is half-written:
    // the staging table row for row, the nodes property for property, the dead letters.
    expect(await tableSize()).toBeGreaterThan(sizeBefore);
    const halfWritten = differences(rowsBefore, await rawRows()) +
      differences(nodesBefore, await nodes(`DiskFullReview_${prefix}`));
    expect(halfWritten).toBe(0);
    expect(await deadLetters(`${prefix}/reviews`)).toEqual(lettersBefore);

    // Space again: the same load completes, and equals a clean run of it.
    rmSync(filler);
    const again = await run(larger);
    expect(again.status, again.error ?? "").toBe("succeeded");
    const cleanRun = await materialize(
      pool,
      assetGraphOf(diskFullDefinitions(clean, { source: join(dir, "reviews.jsonl") })),
    );
    expect(cleanRun.run.status, cleanRun.run.error ?? "").toBe("succeeded");
    const cleanStaging = new Staging(createPool(settings().databaseUrl));
    try {
      expect(await staged(staging, `${prefix}_reviews`)).toHaveLength(4_000);
      expect(await staged(staging, `${prefix}_reviews`)).toEqual(await staged(cleanStaging, `${clean}_reviews`));
    } finally {
      await cleanStaging.close();
    }
    expect(await nodes(`DiskFullReview_${prefix}`, false)).toEqual(await nodes(`DiskFullReview_${clean}`, false));
    const letters = await deadLetters(`${prefix}/reviews`);
    expect(letters.get(again.id)).toBe(1_101);
    expect([...(await deadLetters(`${clean}/reviews`)).values()]).toEqual([1_101]);

    recordFigure("faults survived of injected: staging disk full", 1, "ratio", ">= 1");
    recordFigure(
      "rows half-written after disk full",
      halfWritten,
      "rows",
      "<= 0",
      "staging rows and Neo4j nodes that differ from the last successful run after a load failed for want of disk space",
    );
  });
});
