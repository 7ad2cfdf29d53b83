import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForRun } from "../../engine/runs.ts";
import { prepareDatabase } from "../../engine/worker.ts";
import type { MetadataStore } from "../../db/schema.ts";
import { createPool, metadataDb, type pg } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import {
  backfillDays,
  backfillLimits,
  backfillNames,
  backfillSnapshot,
  dropBackfill,
  firstDay,
  lastDay,
  writeBackfillDefinitions,
} from "../backfill-project.ts";
import { type Host, type HostNetwork, hostNetwork, namespacesAvailable, reachableFrom, workerHost } from "../hosts.ts";
import { exitOf, ingest } from "../processes.ts";
import { until, within } from "../queue-project.ts";
import { recordFigure } from "../reliability.ts";
import { mostOverlapping, type RunningSample, sampleRunningSteps } from "../running-steps.ts";
import { connect } from "../support.ts";

/**
 * graphile-worker as the distributed engine: `ingest worker` processes on separate "hosts" (folders and
 * environment of their own and, where the machine allows, network and UTS namespaces reaching the
 * servers over a veth pair) share a backfill of 30 daily partitions. The work spreads over the hosts,
 * the concurrency limits hold across them, a host SIGKILLed mid-backfill loses nothing, and the graph
 * and collection equal a one-host run's.
 */
const dir = mkdtempSync(join(tmpdir(), "ingest-scale-out-"));
const stamp = randomBytes(3).toString("hex");
const prefixes = { solo: `scale${stamp}a`, spread: `scale${stamp}b`, killed: `scale${stamp}c` };
/**
 * A database of its own on the stack's server, so a queue of its own: workers of other projects on the
 * stack's database (other tests') would fetch this test's jobs, fail them as assets they do not know,
 * and leave its backfill waiting for steps that never run.
 */
const database = `scale_out_${stamp}`;
const isolated = namespacesAvailable();
/** Each materialisation lasts at least this long, so that a backfill of small days keeps several running. */
const paceMs = 250;
const concurrency = 2;
const days = backfillDays.keysBetween(firstDay, lastDay);
const steps = days.length * 5;
const networks: HostNetwork[] = [];
const workers: ChildProcess[] = [];
let hosts: Host[];
let env: Awaited<ReturnType<typeof connect>>;
let queue: { url: string; pool: pg.Pool; db: MetadataStore };
let solo: { durationMs: number; snapshot: Awaited<ReturnType<typeof snapshot>> };

beforeAll(async () => {
  env = await connect();
  await env.pool.query(`create database ${database}`);
  const url = new URL(settings().databaseUrl);
  url.pathname = `/${database}`;
  const pool = createPool(url.href);
  await prepareDatabase(pool);
  queue = { url: url.href, pool, db: metadataDb(pool) };

  // A worker that dies is presumed dead after 2 s, not the default 30.
  const liveness = { INGEST_HEARTBEAT_MS: "500", INGEST_WORKER_TIMEOUT_MS: "2000" };
  const subnet = 1 + (Number.parseInt(stamp.slice(0, 2), 16) % 250);
  hosts = [];
  for (const [i, name] of ["host-1", "host-2"].entries()) {
    const network = isolated ? await hostNetwork(`sc${stamp}h${i + 1}`, subnet, i) : undefined;
    if (network) networks.push(network);
    hosts.push(workerHost(name, join(dir, name), { network, databaseUrl: queue.url, env: liveness }));
  }
  console.log(
    isolated
      ? `hosts in network namespaces ${networks.map((n) => `${n.namespace} (${n.address})`).join(", ")}`
      : "no network namespaces here (not root, or no ip netns): hosts are processes with folders of their own",
  );

  // The reference: the same backfill on one host.
  const worker = await start(hosts[0]!, prefixes.solo);
  const { run } = await backfill(prefixes.solo);
  await stop(worker);
  solo = { durationMs: durationOf(run), snapshot: await snapshot(prefixes.solo) };
  expect(solo.snapshot.nodes).toHaveLength(days.length * 9);
  expect(solo.snapshot.relationships).toHaveLength(days.length * 8);
  expect(solo.snapshot.documents).toHaveLength(days.length * 8);
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
  await Promise.all(workers.map(exitOf));
  for (const network of networks) await network.close();
  await queue?.db.destroy();
  if (env) {
    // Each cleanup on its own: a store that another test has just restarted must not leave the others undone.
    const cleanups = [
      () => env.pool.query(`drop database if exists ${database} with (force)`),
      ...Object.values(prefixes).map((prefix) => () => dropBackfill(env, prefix)),
    ];
    for (const cleanup of cleanups) await cleanup().catch((error) => console.error("cleanup:", error));
    await env.close();
  }
  if (!process.env.INGEST_KEEP_TEST_FILES) rmSync(dir, { recursive: true, force: true });
});

async function start(host: Host, prefix: string): Promise<ChildProcess> {
  const worker = await host.start(writeBackfillDefinitions(dir, prefix, { paceMs }), concurrency);
  workers.push(worker);
  return worker;
}

async function stop(worker: ChildProcess): Promise<void> {
  worker.kill("SIGTERM");
  expect(await within(60_000, "the worker's exit", exitOf(worker))).toBe(0);
}

/**
 * `ingest materialize --from … --to …` as a user runs it; `whileRunning` then gets the run's id, and the
 * run's looks at its running steps come back with the run once it has succeeded.
 */
async function backfill(prefix: string, whileRunning?: (runId: string) => Promise<void>) {
  const definitions = writeBackfillDefinitions(dir, prefix, { paceMs });
  const requested = ingest(
    ["--json", "--definitions", definitions, "materialize", "--from", firstDay, "--to", lastDay],
    { DATABASE_URL: queue.url },
  );
  expect(requested.status, requested.stderr).toBe(0);
  const { runId } = JSON.parse(requested.stdout) as { runId: string };
  const sampler = sampleRunningSteps(queue.pool, runId);
  let finished: Awaited<ReturnType<typeof waitForRun>>;
  try {
    await whileRunning?.(runId);
    finished = await within(180_000, `the backfill of ${prefix}`, waitForRun(queue.db, runId));
  } finally {
    await sampler.stop();
  }
  const { samples } = sampler;
  expect(finished.run.status, finished.run.error ?? "").toBe("succeeded");
  expect(finished.steps).toHaveLength(steps);
  expect(finished.steps.every((s) => s.status === "succeeded")).toBe(true);
  return { ...finished, samples };
}

const durationOf = (run: { startedAt: Date | null; finishedAt: Date | null }) =>
  run.finishedAt!.getTime() - run.startedAt!.getTime();

const snapshot = (prefix: string) => backfillSnapshot(env.neo4j, env.chroma, prefix);

/** The graph and collection equal the one-host run's: nodes, relationships, documents, and vectors to 0.999. */
function expectEqualToSolo(actual: Awaited<ReturnType<typeof snapshot>>) {
  expect(actual.nodes).toEqual(solo.snapshot.nodes);
  expect(actual.relationships).toEqual(solo.snapshot.relationships);
  expect(actual.documents).toEqual(solo.snapshot.documents);
  for (const [id, vector] of actual.vectors) {
    const other = solo.snapshot.vectors.get(id)!;
    expect(vector.reduce((sum, x, i) => sum + x * other[i]!, 0)).toBeGreaterThan(0.999);
  }
}

/** The run's succeeded materialisations, with the process that ran each (the project reports its pid). */
async function materializationsOf(runId: string) {
  const rows = await queue.db.selectFrom("ingest.materializations")
    .select(["asset_key", "partition_key", "started_at", "finished_at", "metadata"])
    .where("run_id", "=", runId).where("status", "=", "succeeded").execute();
  return rows.map((r) => ({ ...r, pid: (r.metadata as { pid: number }).pid }));
}
type Materializations = Awaited<ReturnType<typeof materializationsOf>>;

/** Steps of the backfill without a succeeded materialisation, and steps with more than one. */
function lostAndTwice(materializations: Materializations) {
  const counts = new Map<string, number>();
  for (const { asset_key, partition_key } of materializations) {
    counts.set(`${asset_key}:${partition_key}`, (counts.get(`${asset_key}:${partition_key}`) ?? 0) + 1);
  }
  return { lost: steps - counts.size, twice: [...counts.values()].filter((n) => n > 1).length };
}

/**
 * The most steps running at once, in all and in each limited group, as the larger of what the looks at
 * the run saw and what the materialisations' recorded start and finish times give; each within its limit.
 */
function expectWithinLimits(prefix: string, materializations: Materializations, samples: RunningSample[]) {
  const { groups } = backfillNames(prefix);
  const graph = materializations.filter((m) => /\/(Order|Day|PLACED_ON)$/.test(m.asset_key));
  const embed = materializations.filter((m) => m.asset_key.endsWith("/order_notes"));
  const most = {
    global: Math.max(mostOverlapping(materializations), ...samples.map((s) => s.total)),
    graph: Math.max(mostOverlapping(graph), ...samples.map((s) => s.byGroup.get(groups.graph) ?? 0)),
    embed: Math.max(mostOverlapping(embed), ...samples.map((s) => s.byGroup.get(groups.embed) ?? 0)),
  };
  expect(most.global).toBeLessThanOrEqual(backfillLimits.global);
  expect(most.graph).toBeLessThanOrEqual(backfillLimits.graph);
  expect(most.embed).toBeLessThanOrEqual(backfillLimits.embed);
  return most;
}

const workerOf = (pid: number) =>
  queue.db.selectFrom("ingest.workers").selectAll().where("pid", "=", pid).orderBy("started_at", "desc")
    .executeTakeFirstOrThrow();

describe("scale-out over worker hosts", () => {
  it("spreads a backfill of 30 days over two hosts within the concurrency limits, and ends equal to a one-host run", async () => {
    const prefix = prefixes.spread;
    const running = await Promise.all(hosts.map((host) => start(host, prefix)));
    const { run, samples } = await backfill(prefix);
    await Promise.all(running.map(stop));

    // Each worker ran on its own host: its hostname is the host's (a UTS namespace of its own), and its
    // connections came over the host's veth pair, from a namespace that cannot reach the servers' loopback.
    const registered = await Promise.all(running.map((w) => workerOf(w.pid!)));
    if (isolated) expect(registered.map((w) => w.host)).toEqual(hosts.map((h) => h.name));
    for (const network of networks) {
      expect(network.forwarded.postgres).toBeGreaterThan(0);
      expect(network.forwarded.neo4j).toBeGreaterThan(0);
      expect(network.forwarded.chroma).toBeGreaterThan(0);
      expect(reachableFrom(network.namespace, "127.0.0.1", Number(new URL(queue.url).port))).toBe(false);
    }

    // Every step ran once, each host ran a share of them, and both ran at the same time.
    const materializations = await materializationsOf(run.id);
    expect(lostAndTwice(materializations)).toEqual({ lost: 0, twice: 0 });
    const ran = running.map((w) => materializations.filter((m) => m.pid === w.pid).length);
    expect(ran[0]! + ran[1]!).toBe(steps);
    const shares = ran.map((n) => n / steps);
    console.log(`shares of the backfill's steps: ${shares.map((s) => s.toFixed(2)).join(", ")}`);
    for (const share of shares) expect(share).toBeGreaterThanOrEqual(0.1);
    expect(samples.some((s) => s.workers.size === 2)).toBe(true);

    const most = expectWithinLimits(prefix, materializations, samples);
    expectEqualToSolo(await snapshot(prefix));

    const ratio = solo.durationMs / durationOf(run);
    console.log(`most at once ${JSON.stringify(most)}; one host ${solo.durationMs} ms, two ${durationOf(run)} ms`);
    const setup =
      `${days.length} daily partitions x 5 assets, ${steps} steps, on 2 worker hosts of concurrency ${concurrency}${
        isolated ? ", each in network and UTS namespaces of its own" : ""
      }`;
    for (const [i, share] of shares.entries()) {
      recordFigure(`scale-out: share of backfill steps run by host ${i + 1}`, share, "share", ">= 0.1", setup);
    }
    for (const limit of ["global", "graph", "embed"] as const) {
      recordFigure(
        `scale-out: most backfill steps running at once, ${limit === "global" ? "in all" : `group ${limit}`}`,
        most[limit],
        "steps",
        `<= ${backfillLimits[limit]}`,
        `the ${limit} limit is ${
          backfillLimits[limit]
        }; sampled every 50 ms and from the recorded start and finish times. ${setup}`,
      );
    }
    recordFigure(
      "scale-out: backfill throughput, 2 hosts over 1",
      ratio,
      "ratio",
      ">= 0",
      `no target: on 2 shared cores, against the same servers, with a global limit of ${backfillLimits.global} (one host runs ${concurrency} at once, two ${backfillLimits.global}), it says little. One host ${solo.durationMs} ms, two ${
        durationOf(run)
      } ms`,
    );
  });

  it("a host SIGKILLed mid-backfill loses nothing: the other takes its steps, and the result equals a one-host run", async () => {
    const prefix = prefixes.killed;
    const [survivor, victim] = await Promise.all(hosts.map((host) => start(host, prefix)));
    const victimId = (await workerOf(victim!.pid!)).id;
    let killedAt = 0;
    const { run, steps: runSteps, samples } = await backfill(prefix, async (runId) => {
      // Killed once a third is done, while it runs a step it started less than 150 ms ago: one that cannot
      // have finished (each takes 250 ms or more) by the time the signal lands.
      await until("a third of the backfill done, and host 2 starting a step", 120_000, async () => {
        const { rows } = await queue.pool.query<{ done: number; held: number }>(
          `select count(*) filter (where s.status = 'succeeded')::int as done,
                  count(*) filter (where s.status = 'running' and j.locked_by = $2
                                   and s.started_at > now() - interval '150 milliseconds')::int as held
           from ingest.run_steps s left join graphile_worker.jobs j on j.id = s.job_id::bigint where s.run_id = $1`,
          [runId, victimId],
        );
        return rows[0]!.done >= steps / 3 && rows[0]!.held > 0;
      });
      victim!.kill("SIGKILL");
      killedAt = Date.now();
      await exitOf(victim!);
    });
    await stop(survivor!);

    // Its jobs were released after its timeout, and host 1 ran their steps: again, for the steps host 2 had
    // started (a job it had fetched but not started spends no attempt).
    const dead = await workerOf(victim!.pid!);
    expect(dead.released_at).not.toBeNull();
    const materializations = await materializationsOf(run.id);
    const released = runSteps.filter((s) => dead.released_jobs.map(String).includes(s.jobId!)).map((step) => ({
      step,
      materialization: materializations.find((m) =>
        m.asset_key === step.assetKey && m.partition_key === step.partitionKey
      )!,
    }));
    expect(released.length).toBeGreaterThan(0);
    for (const { materialization } of released) expect(materialization.pid).toBe(survivor!.pid);
    const interrupted = released.filter(({ step }) => step.attempts >= 2);
    expect(interrupted.length).toBeGreaterThan(0);
    const recoveredAfterMs = Math.min(...interrupted.map((r) => r.materialization.started_at.getTime())) - killedAt;
    console.log(`SIGKILL of host 2 to its steps running again on host 1: ${recoveredAfterMs} ms`);
    expect(recoveredAfterMs).toBeLessThan(60_000);

    // Nothing lost, nothing twice, the limits held meanwhile, and the stores equal the one-host run's.
    const { lost, twice } = lostAndTwice(materializations);
    expect({ lost, twice }).toEqual({ lost: 0, twice: 0 });
    expectWithinLimits(prefix, materializations, samples);
    expectEqualToSolo(await snapshot(prefix));

    recordFigure(
      "scale-out: backfill steps lost or run twice after a host SIGKILL",
      lost + twice,
      "steps",
      "<= 0",
      `${steps} steps; host 2 SIGKILLed after a third, holding ${dead.released_jobs.length} job(s), ${interrupted.length} of them started`,
    );
    recordFigure(
      "scale-out: host SIGKILLed mid-backfill: its steps running again on the other host",
      recoveredAfterMs,
      "ms",
      "<= 60000",
      "INGEST_HEARTBEAT_MS=500, INGEST_WORKER_TIMEOUT_MS=2000 (the defaults, 5 s and 30 s, make it about 35 s)",
    );
  });
});
