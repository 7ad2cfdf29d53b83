import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { logger } from "../resources/logger.ts";
import { projectDir } from "../resources/settings.ts";
import { globals, loadGraph, openMetadata } from "./context.ts";

interface UiCommandOptions {
  port: number;
  host: string;
  worker?: boolean;
}

function projectName(): string {
  try {
    return (JSON.parse(readFileSync(join(projectDir, "package.json"), "utf8")) as { name?: string }).name ?? "ingest";
  } catch {
    return "ingest";
  }
}

/** `ingest ui`: serves the web UI until SIGTERM/SIGINT. */
export async function ui(options: UiCommandOptions, command: Command): Promise<void> {
  const [{ startUi }, { ensureWebBuilt }, { uiToken }] = await Promise.all([
    import("../ui/server.ts"),
    import("../ui/web-build.ts"),
    import("../ui/access.ts"),
  ]);
  uiToken(options.host); // no token for a public address: refuse before loading anything
  const graph = await loadGraph(globals(command).definitions);
  const webRoot = await ensureWebBuilt((line) => console.error(`ingest: ${line}`));
  await using store = await openMetadata();
  const stopping = Promise.withResolvers<NodeJS.Signals>();
  const stop = (signal: NodeJS.Signals) => stopping.resolve(signal);
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  let worker: { stop(): Promise<void> } | undefined;
  if (options.worker) {
    const { startWorker } = await import("../engine/worker.ts");
    worker = await startWorker({ graph, pool: store.pool });
  }
  const server = await startUi({
    graph,
    pool: store.pool,
    port: options.port,
    host: options.host,
    webRoot,
    project: projectName(),
    worker: worker !== undefined,
  });
  logger.info({ url: server.url, assets: graph.order.length, worker: worker !== undefined }, "ui listening");
  console.log(`ingest ui listening on ${server.url}`);
  await stopping.promise;
  await server.close();
  await worker?.stop();
  process.off("SIGTERM", stop);
  process.off("SIGINT", stop);
}
