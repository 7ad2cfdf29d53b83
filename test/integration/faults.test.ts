import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import type { Definitions } from "../../engine/definitions.ts";
import { requestRun, waitForRun } from "../../engine/runs.ts";
import { ensureUniqueKey, runInBatches } from "../../connectors/neo4j/index.ts";
import { isAlive, runningPid } from "../../stack/process.ts";
import { stackUp } from "../../stack/stack.ts";
import { freePort } from "../../stack/throwaway.ts";
import { canonicalJson } from "../../engine/canonical-json.ts";
import { packageRoot } from "../../resources/settings.ts";
import { projectSnapshot } from "../project-snapshot.ts";
import {
  crmDefinitions,
  gate,
  gatedDefinitions,
  livenessDefinitions,
  until,
  within,
  writeDefinitionsModule,
} from "../queue-project.ts";
import { recordFigure } from "../reliability.ts";
import { seeded } from "../stream-project.ts";
import { exitOf } from "../processes.ts";
import { connectTo, dropDatabase, freshDatabase } from "../support.ts";

/**
 * Real faults in the middle of real runs, each ending with the stores compared with a clean run of the
 * same source: workers SIGKILLed in the middle of a graph load, an embedding batch and a staging merge
 * (retried by another worker with the default liveness settings); Neo4j, Chroma, Postgres (the queue and
 * the staging database) and a source API SIGKILLed mid-run and started again 30 s later, the run riding
 * the outage out; and every process of ours and the stores SIGKILLed at random points of a loop of runs.
 */
const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "cli", "main.ts");
const dir = mkdtempSync(join(tmpdir(), "ingest-faults-"));
const stamp = Date.now().toString(36);
/** Enough items that each step can be caught in the middle: the embedding step takes several seconds. */
const items = 5_000;
const outageMs = 30_000;
const children: ChildProcess[] = [];
const prefixes: string[] = [];
let env: Awaited<ReturnType<typeof connectTo>>;
/** A database of the file's own for the queue, metadata and staging: no other test's worker meets its jobs. */
const database = `ingest_faults_${stamp}`;
let databaseUrl: string;
let reference: Awaited<ReturnType<typeof projectSnapshot>>;
/** Faults injected, and those after which the stores equalled a clean run's. */
const faults = { injected: 0, survived: 0 };

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** `ingest <args>` on a project's definitions, in a process of its own, its log in the test's folder. */
function start(definitions: string, name: string, ...args: string[]): ChildProcess;
function start(definitions: string, name: string, env: Record<string, string>, ...args: string[]): ChildProcess;
function start(definitions: string, name: string, ...rest: (string | Record<string, string>)[]): ChildProcess {
  const extra = typeof rest[0] === "object" ? rest.shift() as Record<string, string> : {};
  const log = openSync(join(dir, `${name}.log`), "a");
  const child = spawn(node, [cli, ...(definitions ? ["--definitions", definitions] : []), ...rest as string[]], {
    stdio: ["ignore", log, log],
    env: { ...process.env, DATABASE_URL: databaseUrl, ...extra },
  });
  children.push(child);
  return child;
}

/** A `livenessDefinitions` project of its own (`items` items), as this process and the ones it starts load it. */
function project(name: string) {
  const prefix = `ft${stamp}${name.replace(/[^a-z0-9]/g, "")}`;
  prefixes.push(prefix);
  const gates = join(dir, `gates-${name}`);
  const file = writeDefinitionsModule(dir, "livenessDefinitions", prefix, gates, { items });
  return {
    prefix,
    gates,
    graph: buildAssetGraph(livenessDefinitions(prefix, gates, { items })),
    worker: (n = 1) => start(file, `${prefix}-worker-${n}`, "worker", "--concurrency", "2"),
    daemon: () => start(file, `${prefix}-daemon`, "daemon"),
    label: (name: string) => `LivenessTest_${prefix}_${name}`,
    documents: async () => (await env.chroma.collection(`${prefix}-items`)).count(),
  };
}

const request = (definitions: Definitions | ReturnType<typeof project>["graph"]) => {
  const graph = "byKey" in definitions ? definitions : buildAssetGraph(definitions);
  return requestRun(env.db, graph, { selection: "*", keys: graph.order });
};

const step = (runId: string, assetKey: string) =>
  env.db.selectFrom("ingest.run_steps").select(["status", "attempts"]).where("run_id", "=", runId)
    .where("asset_key", "=", assetKey).executeTakeFirstOrThrow();

/** Until `check` holds while the step runs (looked at every 20 ms): the moment a fault is injected "in the middle" of it. */
async function whileRunning(runId: string, assetKey: string, what: string, check: () => Promise<boolean>) {
  const deadline = Date.now() + 180_000;
  while (!((await step(runId, assetKey)).status === "running" && await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within 180 s`);
    await sleep(20);
  }
}

/** Neo4j is running a write (a MERGE) of the label's nodes: a transaction open, part of the batch written. */
async function writingNodes(label: string): Promise<boolean> {
  const { records } = await env.neo4j.executeQuery(
    `SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery CONTAINS $label AND currentQuery CONTAINS "MERGE"
     RETURN count(*) AS n`,
    { label },
  );
  return Number(records[0]!.get("n")) > 0;
}

/** The project's stores equal the clean run's: labels, types, end pairs, properties, ids, documents, metadata. */
async function expectCleanRunStores(prefix: string, faultsSurvived = 1) {
  const actual = await projectSnapshot(env, prefix);
  expect(actual.counts).toEqual(reference.counts);
  expect(actual.graphChecksum).toBe(reference.graphChecksum);
  expect(actual.collectionChecksum).toBe(reference.collectionChecksum);
  faults.survived += faultsSurvived;
}

/** SIGKILLs a server of the local stack and waits until it is gone. */
async function killServer(name: string): Promise<void> {
  const pid = runningPid(name);
  if (pid === undefined) throw new Error(`${name} is not running`);
  process.kill(pid, "SIGKILL");
  await until(`${name} gone`, 30_000, () => !isAlive(pid));
}

/** Starts a killed server again (a killed Postgres' backends may take a moment to go). */
async function restartServer(name: string): Promise<number> {
  for (let attempt = 1;; attempt++) {
    try {
      await stackUp([name]);
      return Date.now();
    } catch (error) {
      if (attempt === 3) throw error;
      await sleep(3_000);
    }
  }
}

beforeAll(async () => {
  databaseUrl = await freshDatabase(database);
  env = await connectTo(databaseUrl);
  // The clean run every faulted run is compared with.
  const clean = project("clean");
  const worker = clean.worker();
  const { run } = await within(300_000, "the clean run", waitForRun(env.db, await request(clean.graph)));
  expect(run.status, run.error ?? "").toBe("succeeded");
  worker.kill("SIGTERM");
  reference = await projectSnapshot(env, clean.prefix);
  expect(reference.counts).toEqual({
    nodes: items + 6,
    distinctNodes: items + 6,
    relationships: items,
    distinctRelationships: items,
    documents: items,
  });
});

/** A test's workers end with it: a worker of another project would take (and fail) the next test's jobs. */
function stopChildren(): void {
  for (const child of children) if (alive(child)) child.kill("SIGKILL");
}

afterEach(stopChildren);

afterAll(async () => {
  stopChildren();
  // A test that failed half-way leaves no server of the stack down for the next file.
  await stackUp(["postgres", "neo4j", "chroma"]).catch(() => {});
  if (env) {
    await runInBatches(
      env.neo4j,
      `MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH 'LivenessTest_ft${stamp}') CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS`,
    );
    for (const prefix of prefixes) await env.chroma.drop(`${prefix}-items`);
    await env.close();
  }
  await dropDatabase(database).catch(() => {});
  if (faults.injected > 0) {
    recordFigure(
      "faults survived of faults injected (faults.test.ts)",
      faults.survived / faults.injected,
      "ratio",
      ">= 1",
      `${faults.survived} of ${faults.injected}: a fault is survived when the stores equal a clean run's afterwards`,
    );
  }
  if (!process.env.INGEST_KEEP_TEST_FILES) rmSync(dir, { recursive: true, force: true });
});

describe("a worker SIGKILLed in the middle of a step: another retries it within 60 s, the stores equal a clean run's", {
  timeout: 600_000,
}, () => {
  /** Kills the worker at `moment`, starts another, and checks the retry's delay and the stores. */
  async function killMidStep(
    name: string,
    assetKey: (prefix: string) => string,
    moment: (p: ReturnType<typeof project>, runId: string, worker: ChildProcess) => Promise<() => Promise<void>>,
  ) {
    const p = project(name);
    const first = p.worker(1);
    const runId = await request(p.graph);
    const afterKill = await moment(p, runId, first);
    first.kill("SIGKILL");
    const killedAt = Date.now();
    faults.injected += 1;
    await afterKill();
    p.worker(2);
    // The default liveness settings: the dead worker's job goes back after its 30-s timeout.
    await until("the step retried", 60_000, async () => (await step(runId, assetKey(p.prefix))).attempts >= 2);
    const recoveredMs = Date.now() - killedAt;
    const { run } = await within(300_000, "the run after the kill", waitForRun(env.db, runId));
    expect(run.status, run.error ?? "").toBe("succeeded");
    expect(recoveredMs).toBeLessThanOrEqual(60_000);
    await expectCleanRunStores(p.prefix);
    recordFigure(
      `worker SIGKILLed mid ${name}: SIGKILL to the step's retry`,
      recoveredMs,
      "ms",
      "<= 60000",
      "default liveness settings (heartbeat 5 s, timeout 30 s); another worker process retries it",
    );
  }

  it("mid graph load (a node asset's write transaction open in Neo4j)", async () => {
    await killMidStep("graph load", (prefix) => `${prefix}/Item`, async (p, runId) => {
      await whileRunning(runId, `${p.prefix}/Item`, "Item nodes being written", () => writingNodes(p.label("Item")));
      return async () => {};
    });
  });

  it("mid embedding batch (the collection holds part of its documents)", async () => {
    await killMidStep("embedding batch", (prefix) => `${prefix}/item_vectors`, async (p, runId) => {
      await whileRunning(runId, `${p.prefix}/item_vectors`, "documents half written", async () => {
        const n = await p.documents();
        return n > 0 && n < items;
      });
      return async () => {};
    });
  });

  it("mid staging merge (its transaction open, its insert under way)", async () => {
    await killMidStep("staging merge", (prefix) => `${prefix}/items`, async (p, _runId, worker) => {
      // The table exists once the extract starts; held locked, the merge that follows waits inside its transaction.
      gate.close(p.gates, "extract");
      await until(
        "the extract started",
        60_000,
        () => gate.reached(p.gates, "extract").some((r) => r.pid === worker.pid),
      );
      const lock = await env.pool.connect();
      await lock.query("begin");
      await lock.query(`lock table staging.${p.prefix}_items in exclusive mode`);
      gate.open(p.gates, "extract");
      await until("the merge waiting inside its transaction", 60_000, async () => {
        const { rows } = await env.pool.query(
          `select count(*)::int as n from pg_stat_activity
           where wait_event_type = 'Lock' and state = 'active' and query like $1`,
          [`%insert into staging.${p.prefix}_items%`],
        );
        return rows[0].n > 0;
      });
      return async () => {
        await lock.query("rollback");
        lock.release();
        // Nothing of the killed merge was committed.
        const { rows } = await env.pool.query(`select count(*)::int as n from staging.${p.prefix}_items`);
        expect(rows[0].n).toBe(0);
      };
    });
  });
});

describe("a store or source SIGKILLed mid-run and started again 30 s later: the run rides the outage out", {
  timeout: 600_000,
}, () => {
  /** Kills `server` at `moment` of a run, starts it 30 s later, and checks the run and the stores. */
  async function outage(
    server: string,
    moment: (p: ReturnType<typeof project>, runId: string) => Promise<void>,
    { daemon = false } = {},
  ) {
    const p = project(server.replace(/[^a-z0-9]/g, ""));
    const worker = p.worker();
    const daemonProcess = daemon ? p.daemon() : undefined;
    const runId = await request(p.graph);
    await moment(p, runId);
    await killServer(server);
    faults.injected += 1;
    await sleep(outageMs);
    const backAt = await restartServer(server);
    const { run } = await within(300_000, "the run after the outage", waitForRun(env.db, runId));
    const recoveredMs = Date.now() - backAt;
    expect(run.status, run.error ?? "").toBe("succeeded");
    expect(alive(worker), "the worker outlived the outage").toBe(true);
    if (daemonProcess) expect(alive(daemonProcess), "the daemon outlived the outage").toBe(true);
    await expectCleanRunStores(p.prefix);
    recordFigure(
      `${server} SIGKILLed mid-run for 30 s: the run done after ${server} was back`,
      recoveredMs,
      "ms",
      "<= 60000",
      `the run succeeded (not failed, not retried by hand); the worker${daemon ? " and the daemon" : ""} outlived it`,
    );
  }

  const midGraphLoad = (p: ReturnType<typeof project>, runId: string) =>
    whileRunning(runId, `${p.prefix}/Item`, "Item nodes being written", () => writingNodes(p.label("Item")));

  it("Neo4j, mid graph load", async () => {
    await outage("neo4j", midGraphLoad);
  });

  it("a constraint whose creation a Neo4j kill cut short leaves its index behind: the next run replaces it", async () => {
    // What a SIGKILL during `CREATE CONSTRAINT` leaves (seen here): the constraint's index, owned by no constraint.
    const label = `LivenessTest_ft${stamp}orphan_Item`;
    await env.neo4j.executeQuery(`CREATE INDEX ${label.toLowerCase()}_itemId_unique FOR (n:${label}) ON (n.itemId)`);
    await ensureUniqueKey(env.neo4j, label, "itemId");
    const { records } = await env.neo4j.executeQuery(
      "SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties WHERE $label IN labelsOrTypes RETURN name, properties",
      { label },
    );
    expect(records.map((r) => [r.get("name"), r.get("properties")])).toEqual([
      [`${label.toLowerCase()}_itemId_unique`, ["itemId"]],
    ]);
    await env.neo4j.executeQuery(`DROP CONSTRAINT ${label.toLowerCase()}_itemId_unique`);
  });

  it("Chroma, mid embedding batch", async () => {
    await outage(
      "chroma",
      (p, runId) =>
        whileRunning(runId, `${p.prefix}/item_vectors`, "documents half written", async () => {
          const n = await p.documents();
          return n > 0 && n < items;
        }),
    );
  });

  it("Postgres (the queue, the metadata and the staging database), mid graph load: the worker and the daemon carry on", async () => {
    await outage("postgres", midGraphLoad, { daemon: true });
  });

  it("a source API (the CRM), down when the run reads it", async () => {
    const clean = `ft${stamp}crmclean`;
    const faulted = `ft${stamp}crm`;
    // A CRM API of the test's own, in a process it can SIGKILL: 300 contacts, a secret of its own.
    const data = join(dir, "crm-api");
    mkdirSync(data, { recursive: true });
    for (const type of ["companies", "contacts", "deals", "owners"]) {
      const lines = type !== "contacts" ? [] : Array.from({ length: 300 }, (_, i) =>
        JSON.stringify({
          id: `${1000 + i}`,
          properties: {
            email: `person${i}@example.com`,
            firstname: `First${i}`,
            lastname: `Last${i}`,
            jobtitle: "Buyer",
          },
          createdAt: "2026-01-01T00:00:00Z",
          updatedAt: "2026-02-01T00:00:00Z",
          archived: false,
        }));
      writeFileSync(join(data, `${type}.jsonl`), lines.map((l) => `${l}\n`).join(""));
    }
    const port = await freePort();
    const crm = { CRM_API_URL: `http://127.0.0.1:${port}`, CRM_CLIENT_SECRET: randomUUID() };
    const startApi = async () => {
      const api = start("", `crm-api-${port}`, crm, "crm-api", "--port", String(port), "--data", data);
      await until(
        "the CRM API answers",
        30_000,
        () => fetch(`${crm.CRM_API_URL}/oauth/token`, { method: "POST" }).then(() => true, () => false),
      );
      return api;
    };
    const nodesOf = async (prefix: string) => {
      const { records } = await env.neo4j.executeQuery(
        `MATCH (n:\`LivenessTest_${prefix}_Contact\`) RETURN properties(n) AS props ORDER BY n.contactId`,
      );
      return records.map((r) => {
        const { ingestRunId: _run, ...props } = r.get("props");
        return canonicalJson(props).replaceAll(prefix, "P");
      });
    };
    let api = await startApi();
    // A clean run of the same source first, by a worker of its own.
    const cleanWorker = start(
      writeDefinitionsModule(dir, "crmDefinitions", clean, ""),
      `${clean}-worker`,
      crm,
      "worker",
    );
    const { run: cleanRun } = await within(
      120_000,
      "the clean CRM run",
      waitForRun(env.db, await request(crmDefinitions(clean))),
    );
    expect(cleanRun.status, cleanRun.error ?? "").toBe("succeeded");
    cleanWorker.kill("SIGTERM");
    await exitOf(cleanWorker);

    const file = writeDefinitionsModule(dir, "crmDefinitions", faulted, "");
    const worker = start(file, `${faulted}-worker`, crm, "worker", "--concurrency", "2");
    api.kill("SIGKILL");
    await exitOf(api);
    faults.injected += 1;
    const runId = await request(crmDefinitions(faulted));
    await sleep(outageMs);
    api = await startApi();
    const backAt = Date.now();
    const { run } = await within(300_000, "the run after the outage", waitForRun(env.db, runId));
    const recoveredMs = Date.now() - backAt;
    expect(run.status, run.error ?? "").toBe("succeeded");
    expect(alive(worker)).toBe(true);
    const [expected, actual] = [await nodesOf(clean), await nodesOf(faulted)];
    expect(actual).toHaveLength(300);
    expect(actual).toEqual(expected);
    faults.survived += 1;
    recordFigure(
      "a source API SIGKILLed for 30 s when the run reads it: the run done after it was back",
      recoveredMs,
      "ms",
      "<= 60000",
      "the sample CRM API (HubSpot-shaped) in a process of its own; the run succeeded, its staged asset waiting for the API",
    );
  });
});

describe("workers of different definitions on one database", { timeout: 300_000 }, () => {
  it("a worker that does not know an asset leaves its job to one that does, spending no attempt", async () => {
    const other = writeDefinitionsModule(dir, "gatedDefinitions", `ft${stamp}other`, join(dir, "gates-other"));
    const mine = `ft${stamp}mine`;
    const stranger = start(other, `${mine}-stranger`, "worker");
    const runId = await request(gatedDefinitions(mine, join(dir, "gates-mine")));
    // Only the worker without these assets runs for a while: it must not fail their jobs.
    await sleep(12_000);
    expect((await step(runId, `${mine}/slow`)).status).toBe("queued");
    start(writeDefinitionsModule(dir, "gatedDefinitions", mine, join(dir, "gates-mine")), `${mine}-worker`, "worker");
    const { run, steps } = await within(120_000, "the run", waitForRun(env.db, runId));
    expect(run.status, run.error ?? "").toBe("succeeded");
    expect(steps.map((s) => s.attempts)).toEqual([1, 1]);
    expect(alive(stranger)).toBe(true);
  });
});

describe(
  "kill -9 of every process, ours and the stores', at random points of a loop of runs",
  { timeout: 900_000 },
  () => {
    it("after rounds of source changes each cut short, a final run leaves the stores equal to a clean run's", async () => {
      const rand = seeded(17);
      const prefix = `ft${stamp}killloop`;
      prefixes.push(prefix);
      const gates = join(dir, "gates-killloop");
      // The source shrinks and grows between rounds (deletes, re-adds), then is back to the reference's.
      const rounds = [3_000, 5_500, 4_200, 2_500];
      // Short liveness settings: a killed worker's steps go back within seconds, not 30 s, each round.
      const liveness = { INGEST_HEARTBEAT_MS: "500", INGEST_WORKER_TIMEOUT_MS: "2000" };
      const processesOf = (count: number, round: number) => {
        const file = writeDefinitionsModule(dir, "livenessDefinitions", prefix, gates, { items: count });
        return [
          start(file, `${prefix}-worker-${round}`, liveness, "worker", "--concurrency", "2"),
          start(file, `${prefix}-daemon-${round}`, liveness, "daemon"),
        ];
      };
      const killedAt: string[] = [];
      for (const [round, count] of rounds.entries()) {
        const ours = processesOf(count, round);
        const runId = await request(livenessDefinitions(prefix, gates, { items: count }));
        await sleep(500 + rand() * 9_500);
        const { rows } = await env.pool.query(
          "select string_agg(asset_key || ':' || status, ' ') as steps from ingest.run_steps where run_id = $1",
          [runId],
        );
        killedAt.push(`round ${round + 1} (${count} items): ${rows[0].steps}`);
        for (const child of ours) child.kill("SIGKILL");
        await Promise.all(ours.map(exitOf));
        for (const server of ["postgres", "neo4j", "chroma"]) await killServer(server);
        for (const server of ["postgres", "neo4j", "chroma"]) await restartServer(server);
        faults.injected += 1;
      }
      console.log(`killed at:\n  ${killedAt.join("\n  ")}`);

      processesOf(items, rounds.length);
      const final = await request(livenessDefinitions(prefix, gates, { items }));
      const { run } = await within(300_000, "the final run", waitForRun(env.db, final));
      expect(run.status, run.error ?? "").toBe("succeeded");
      // The runs cut short finish too (resumed, or failed with their error), none left hanging.
      await until("every run of the loop ended", 300_000, async () => {
        const { rows } = await env.pool.query(
          "select count(*)::int as n from ingest.runs where status in ('queued', 'running', 'canceling')",
        );
        return rows[0].n === 0;
      });
      await expectCleanRunStores(prefix, rounds.length);
      recordFigure(
        "kill -9 of every process at random points: rounds survived of rounds",
        1,
        "ratio",
        ">= 1",
        `${rounds.length} rounds (workers, daemon, Postgres, Neo4j and Chroma SIGKILLed at a seeded random point of a run whose source shrank or grew), then a final run: every run ended, the stores equal a clean run's`,
      );
    });
  },
);
