import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import type { AssetGraph } from "../engine/asset-graph.ts";
import { assetGraphOf, type Definitions } from "../engine/definitions.ts";
import { schemaState } from "../db/schema-state.ts";
import { metadataDb, openPool, type pg } from "../resources/postgres.ts";
import { codeFile, projectDir, settings } from "../resources/settings.ts";
import type { MetadataStore } from "../db/schema.ts";

export interface GlobalOptions {
  definitions?: string;
  json?: boolean;
}

export const globals = (command: Command): GlobalOptions => command.optsWithGlobals<GlobalOptions>();

/**
 * The definitions module the CLI loads: `--definitions`, else `INGEST_DEFINITIONS`, else the
 * project's `definitions.ts` (the nearest folder with a package.json), else this package's bundled
 * sample project.
 */
export function definitionsFile(file: string | undefined): string {
  const given = file ?? process.env.INGEST_DEFINITIONS;
  if (given) return resolve(given);
  const project = join(projectDir, "definitions.ts");
  return existsSync(project) ? project : codeFile("definitions");
}

/**
 * Why a definitions module failed to load, with where: Node's syntax errors carry the file, line and
 * code only in their stack's first lines, Deno's in the message; other errors get the first frame
 * in the project's own code.
 */
export function loadFailure(path: string, error: unknown): string {
  if (!(error instanceof Error)) return `could not load ${path}: ${String(error)}`;
  const stack = error.stack ?? "";
  const header = stack.startsWith(error.name) ? "" : stack.split("\n\n")[0]!.trimEnd();
  if (header) return `could not load ${path}:\n${header.replace(/^file:\/\//, "")}\n${error.name}: ${error.message}`;
  if (error.message.includes(path)) return `could not load ${path}: ${error.message}`;
  const frame = stack.split("\n").slice(1).map((line) => /\(?((?:file:\/\/)?\/[^()]+:\d+:\d+)\)?\s*$/.exec(line)?.[1])
    .find((at) => at !== undefined && !at.includes("/node_modules/"));
  return `could not load ${path}: ${error.name === "Error" ? "" : `${error.name}: `}${error.message}${
    frame ? ` (at ${frame.replace(/^file:\/\//, "")})` : ""
  }`;
}

/** Loads a definitions module: its default export, or its export named `definitions`. */
export async function loadGraph(file: string | undefined): Promise<AssetGraph<Definitions>> {
  const path = definitionsFile(file);
  if (!existsSync(path)) throw new Error(`no definitions file at ${path} (from --definitions or INGEST_DEFINITIONS)`);
  let module: { default?: Definitions; definitions?: Definitions };
  try {
    module = await import(pathToFileURL(path).href);
  } catch (error) {
    throw new Error(loadFailure(path, error), { cause: error });
  }
  const definitions = module.default ?? module.definitions;
  if (!definitions) throw new Error(`${path} exports no definitions (export default defineDefinitions({...}))`);
  return assetGraphOf(definitions);
}

export interface MetadataConnection extends AsyncDisposable {
  pool: pg.Pool;
  db: MetadataStore;
  close(): Promise<void>;
}

/**
 * A pool on the framework's database with graphile-worker's and the metadata schema in place; `await using` closes it.
 * `migrate: "if-behind"` (commands that only read) migrates only a database that lacks this version's migrations;
 * `"always"` (the default: commands that queue or execute work) lets graphile-worker and the migrator check too.
 */
export async function openMetadata(
  options: { migrate?: "always" | "if-behind" } = {},
): Promise<MetadataConnection> {
  const { databaseUrl, external } = settings();
  const pool = await openPool(databaseUrl, {
    what: "the metadata database",
    source: { variable: "DATABASE_URL", fromEnvironment: external.postgres },
  });
  const current = async () => {
    const { queue, missing } = await schemaState(pool);
    return queue && missing.length === 0;
  };
  if (options.migrate !== "if-behind" || !await current()) {
    const { prepareDatabase } = await import("../engine/worker.ts");
    await prepareDatabase(pool);
  }
  const db = metadataDb(pool);
  const close = async () => {
    await db.destroy();
    // kysely ends the pool only when it acquired a connection through it; callers may have queried the pool directly.
    if (!pool.ended) await pool.end();
  };
  return { pool, db, close, [Symbol.asyncDispose]: close };
}

/**
 * Observes the observable source assets among `keys` now and records what they report (or their
 * errors), with the project's resources set up for it and closed after: what `status` and
 * `materialize --stale` do first, so a source that changed is stale. Nothing is loaded when none of
 * `keys` is observable.
 */
export async function observeSelected(
  db: MetadataStore,
  graph: AssetGraph<Definitions>,
  keys: Iterable<string>,
): Promise<void> {
  const observable = [...keys].filter((key) => graph.byKey.get(key)?.observe);
  if (observable.length === 0) return;
  const [{ ResourcePool }, { observeSources }] = await Promise.all([
    import("../engine/resource.ts"),
    import("../engine/observations.ts"),
  ]);
  await using resources = new ResourcePool(graph.definitions.resources);
  await observeSources(db, graph, resources, observable);
}

export function output(command: Command, value: unknown, human: () => string): void {
  console.log(globals(command).json ? JSON.stringify(value, null, 2) : human());
}

/** The metrics options of `ingest worker` and `ingest daemon`. */
export interface MetricsOptions {
  metricsPort?: number;
  metricsHost: string;
}

/**
 * Serves Prometheus metrics when asked (`--metrics-port`, or `INGEST_METRICS_PORT`), with the queue's
 * depth and the workers' liveness read from the database at each scrape; `await using` stops it.
 */
export async function serveMetricsIfAsked(
  options: MetricsOptions,
  role: "worker" | "daemon",
  db: MetadataStore,
): Promise<AsyncDisposable & { url?: string }> {
  const fromEnvironment = process.env.INGEST_METRICS_PORT;
  const port = options.metricsPort ?? (fromEnvironment === undefined ? undefined : Number(fromEnvironment));
  if (port === undefined) return { [Symbol.asyncDispose]: async () => {} };
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`INGEST_METRICS_PORT must be a port number, not '${fromEnvironment}'`);
  }
  const [{ serveMetrics }, { collectQueueMetrics }] = await Promise.all([
    import("../resources/metrics.ts"),
    import("../engine/queue-stats.ts"),
  ]);
  const server = await serveMetrics({ port, host: options.metricsHost, role, collect: () => collectQueueMetrics(db) });
  return { url: server.url, [Symbol.asyncDispose]: () => server.close() };
}
