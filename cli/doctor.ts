import type { Command } from "commander";
import type { AssetGraph } from "../engine/asset-graph.ts";
import type { Definitions } from "../engine/definitions.ts";
import { countLiveWorkers } from "../engine/liveness.ts";
import { ResourcePool } from "../engine/resource.ts";
import { latestMigration, schemaState } from "../db/schema-state.ts";
import { metadataDb, openPool, type pg } from "../resources/postgres.ts";
import { settings } from "../resources/settings.ts";
import { definitionsFile, globals, loadGraph, output } from "./context.ts";

/** One thing `ingest doctor` looked at: `ok`, `warn` (works, but worth knowing) or `fail` (and what to do). */
export interface Finding {
  check: string;
  status: "ok" | "warn" | "fail";
  detail: string;
  /** What to do about a warning or a failure. */
  fix?: string;
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Node ≥ 22.18 (type stripping, graphile-worker 0.18) or Deno 2. */
function runtime(): Finding {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  if (deno) {
    const ok = Number(deno.version.deno.split(".")[0]) >= 2;
    return {
      check: "runtime",
      status: ok ? "ok" : "fail",
      detail: `Deno ${deno.version.deno}`,
      ...(!ok && { fix: "install Deno 2 (npm install --save-dev deno)" }),
    };
  }
  const [major, minor] = process.versions.node.split(".").map(Number) as [number, number];
  const ok = major > 22 || (major === 22 && minor >= 18);
  return {
    check: "runtime",
    status: ok ? "ok" : "fail",
    detail: `Node.js ${process.versions.node}${ok ? "" : ", older than 22.18"}`,
    ...(!ok && { fix: "install Node 24 LTS, or add it to the project: npm install --save-dev node@24" }),
  };
}

/** Sets a resource up within `ms`, as the first asset that uses it would, and tears it down again. */
async function tryResource(resources: ResourcePool, name: string, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([resources.get(name), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** What a resource of a known kind is, once set up: the model embeds a text, the others answered their setup. */
async function describeResource(kind: string | undefined, instance: unknown): Promise<string> {
  if (kind === "embedder") {
    const embedder = instance as { embed(texts: string[]): Promise<number[][]>; dimensions: number };
    const [vector] = await embedder.embed(["doctor"]);
    return `the model loads and embeds (${vector!.length} dimensions)`;
  }
  return kind ? `a ${kind} resource: connected` : "set up";
}

async function checkResources(graph: AssetGraph<Definitions>): Promise<Finding[]> {
  const definitions = graph.definitions.resources ?? {};
  const used = new Set(
    [...graph.byKey.values()].flatMap((a) => a.resources.map((r) => typeof r === "string" ? r : r.name)),
  );
  const findings: Finding[] = [];
  await using resources = new ResourcePool(definitions);
  for (const [name, resource] of Object.entries(definitions)) {
    const check = `resource ${name}`;
    try {
      const instance = await tryResource(resources, name, resource.kind === "embedder" ? 60_000 : 15_000);
      findings.push({ check, status: "ok", detail: await describeResource(resource.kind, instance) });
    } catch (error) {
      findings.push({
        check,
        status: "fail",
        detail: firstLine(error),
        fix: errorText(error).split("\n").slice(1).join(" ").trim() ||
          (used.has(name) ? "the assets that use it fail until it is fixed" : "no asset uses it: remove it"),
      });
    }
  }
  return findings;
}

/** The metadata database: reachable, migrated to this version, and whether any worker is running. */
async function checkDatabase(): Promise<Finding[]> {
  const { databaseUrl, external } = settings();
  let pool: pg.Pool;
  try {
    pool = await openPool(databaseUrl, {
      what: "the metadata database",
      source: { variable: "DATABASE_URL", fromEnvironment: external.postgres },
    });
  } catch (error) {
    return [{ check: "metadata database", status: "fail", detail: firstLine(error), fix: errorText(error) }];
  }
  const host = new URL(databaseUrl).host;
  const findings: Finding[] = [{ check: "metadata database", status: "ok", detail: `PostgreSQL at ${host}` }];
  try {
    const { queue, missing } = await schemaState(pool);
    const current = queue && missing.length === 0;
    findings.push({
      check: "schema",
      status: current ? "ok" : "warn",
      detail: current
        ? `graphile-worker's queue and the metadata schema are at this version (${latestMigration})`
        : `${queue ? "" : "no job queue yet; "}${missing.length} metadata migration(s) to apply: ${missing.join(", ")}`,
      ...(!current &&
        { fix: "nothing to do by hand: the next `ingest worker`, `materialize` or `daemon` applies them" }),
    });
    if (current) {
      const live = await countLiveWorkers(metadataDb(pool));
      findings.push({
        check: "workers",
        status: live > 0 ? "ok" : "warn",
        detail: live > 0 ? `${live} live` : "no worker is running: queued runs wait",
        ...(live === 0 &&
          { fix: "start `ingest worker` (as many as you like, on any host), or use `materialize --wait`" }),
      });
    }
  } finally {
    await pool.end();
  }
  return findings;
}

/** Everything `ingest doctor` checks, in order; a check that cannot run says why instead of stopping the others. */
export async function diagnose(file: string | undefined): Promise<Finding[]> {
  const findings: Finding[] = [runtime()];
  let graph: AssetGraph<Definitions> | undefined;
  try {
    graph = await loadGraph(file);
    const { schedules = [], sensors = [] } = graph.definitions;
    findings.push({
      check: "definitions",
      status: "ok",
      detail: `${
        definitionsFile(file)
      }: ${graph.order.length} assets, ${schedules.length} schedules, ${sensors.length} sensors`,
    });
  } catch (error) {
    findings.push({
      check: "definitions",
      status: "fail",
      detail: firstLine(error),
      fix: errorText(error).split("\n").slice(1).join("\n") || "fix the definitions, then run `ingest doctor` again",
    });
  }
  findings.push(...await checkDatabase());
  if (graph) findings.push(...await checkResources(graph));
  return findings;
}

/** `ingest doctor`: exits 1 when something failed. */
export async function doctor(_options: unknown, command: Command): Promise<void> {
  const findings = await diagnose(globals(command).definitions);
  const mark = { ok: "ok  ", warn: "warn", fail: "FAIL" } as const;
  output(
    command,
    findings,
    () =>
      findings.map((f) =>
        `${mark[f.status]}  ${f.check.padEnd(20)} ${f.detail}${
          f.fix ? `\n      → ${f.fix.split("\n").join("\n        ")}` : ""
        }`
      ).join("\n"),
  );
  if (findings.some((f) => f.status === "fail")) process.exitCode = 1;
}
