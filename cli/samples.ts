import type { Command } from "commander";
import { join } from "node:path";
import { createPool } from "../resources/postgres.ts";
import { localPorts, settings, sourcesDir } from "../resources/settings.ts";
import { startCrmApi } from "../samples/crm-api.ts";
import { generate } from "../samples/generate/index.ts";
import { ensureSecret } from "../stack/secrets.ts";
import { output } from "./context.ts";
import { wholeNumber } from "./options.ts";

export function registerSamples(program: Command): void {
  program
    .command("generate")
    .description(
      "generate the sample EC (Postgres), CRM (REST API data, CSV, Excel) and chat (JSON Lines) sources, deterministically",
    )
    .option("-n, --scale <orders>", "number of e-commerce orders; everything else scales from it", wholeNumber(1), 2000)
    .option("--seed <seed>", "the same scale and seed give the same data", wholeNumber(0), 42)
    .option("-o, --out <dir>", "where the file sources go", sourcesDir)
    .action(async (options: { scale: number; seed: number; out: string }, command: Command) => {
      const shopPool = createPool(settings().shopDatabaseUrl);
      try {
        const report = await generate({
          scale: options.scale,
          seed: options.seed,
          outDir: options.out,
          shopPool,
        });
        output(command, report, () =>
          [
            `generated scale ${report.scale}, seed ${report.seed} into ${options.out} and the shop database (report.json beside the files)`,
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
      }
    });
  program
    .command("crm-api")
    .description(
      "serve the generated CRM data as a HubSpot-shaped REST API (OAuth2 client credentials, pagination, rate limits)",
    )
    .option("-p, --port <port>", "port on 127.0.0.1", wholeNumber(1, 65535), localPorts.crmApi)
    .option("--data <dir>", "the folder with companies/contacts/deals/owners.jsonl", join(sourcesDir, "crm", "api"))
    .action(async (options: { port: number; data: string }) => {
      const api = await startCrmApi({
        dataDir: options.data,
        port: options.port,
        host: "127.0.0.1",
        clientId: settings().crm.clientId,
        clientSecret: settings().crm.clientSecret ?? ensureSecret("crm"),
      });
      console.log(`crm-api ready ${api.url}`);
      await new Promise<void>((resolve) => {
        process.once("SIGTERM", resolve);
        process.once("SIGINT", resolve);
      });
      await api.close();
    });
}
