import type { Command } from "commander";
import { webhookSources } from "../connectors/webhooks/source.ts";
import { logger } from "../resources/logger.ts";
import { globals, loadGraph, openMetadata } from "./context.ts";
import { listenFailure, serveUntilSignal } from "./serving.ts";

/** `ingest webhooks`: receives the project's webhook deliveries until SIGTERM/SIGINT, then drains. */
export async function webhooks(options: { port: number; host: string }, command: Command): Promise<void> {
  const graph = await loadGraph(globals(command).definitions);
  const sources = webhookSources(graph.definitions);
  if (sources.length === 0) {
    throw new Error("the project declares no webhook sources (webhookSources in defineDefinitions)");
  }
  await using store = await openMetadata();
  const { serveWebhooks } = await import("../connectors/webhooks/server.ts");
  const server = await serveWebhooks({ pool: store.pool, sources, port: options.port, host: options.host })
    .catch((error: unknown) => {
      throw listenFailure(error, options.port, "the webhook receiver");
    });
  logger.info({ url: server.url, sources: sources.map((source) => source.name) }, "webhooks listening");
  await serveUntilSignal(`webhooks listening on ${server.url}`, async () => {
    await server.close();
    logger.info("webhooks stopped: every delivery answered");
  });
}
