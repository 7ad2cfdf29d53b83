import type { Command } from "commander";
import { mariadbResource } from "../connectors/mariadb/index.ts";
import { connectMongo } from "../connectors/mongodb/index.ts";
import { createPool } from "../resources/postgres.ts";
import { settings } from "../resources/settings.ts";
import { startCrmApi } from "../samples/crm-api.ts";
import { generate } from "../samples/generate/index.ts";
import { ensureSecret } from "../stack/secrets.ts";
import { output } from "./context.ts";
import { listenFailure, serveUntilSignal } from "./serving.ts";

/** `ingest generate`. */
export async function generateSamples(
  options: { scale: number; seed: number; out: string },
  command: Command,
): Promise<void> {
  const shopPool = createPool(settings().shopDatabaseUrl);
  // The CRM's own database, checked before anything is written: a missing one fails saying where and why.
  const crmDatabase = await Promise.resolve(mariadbResource().setup()).catch(async (error: unknown) => {
    await shopPool.end();
    throw error;
  });
  const catalog = await connectMongo();
  try {
    const report = await generate({
      scale: options.scale,
      seed: options.seed,
      outDir: options.out,
      shopPool,
      crmDatabase,
      catalog,
    });
    output(command, report, () =>
      [
        `generated scale ${report.scale}, seed ${report.seed} into ${options.out}, the shop database, the CRM's MariaDB and the MongoDB catalogue (report.json beside the files)`,
        ...Object.entries(report.entities).map(([entity, e]) => {
          const bad = Object.values(e.bad).reduce((a, b) => a + (b ?? 0), 0);
          return `  ${entity.padEnd(15)} ${String(e.generated).padStart(9)} generated  ${
            String(bad).padStart(6)
          } bad  ${String(e.duplicates).padStart(5)} duplicates  → ${e.expectedLoaded} to load`;
        }),
        `  people: ${report.people.distinctPeople} distinct, ${report.people.customersAlsoContacts} customers also CRM contacts, ${report.people.customersAlsoChatRequesters} also chat requesters`,
      ].join("\n"));
  } finally {
    await shopPool.end();
    await crmDatabase.end();
    await catalog.client.close();
  }
}

/** `ingest crm-api`: serves until SIGTERM/SIGINT. */
export async function crmApi(options: { port: number; data: string }): Promise<void> {
  const api = await startCrmApi({
    dataDir: options.data,
    port: options.port,
    host: "127.0.0.1",
    clientId: settings().crm.clientId,
    clientSecret: settings().crm.clientSecret ?? ensureSecret("crm"),
  }).catch((error: unknown) => {
    throw listenFailure(error, options.port, "the CRM API");
  });
  await serveUntilSignal(`crm-api ready ${api.url}`, () => api.close());
}
