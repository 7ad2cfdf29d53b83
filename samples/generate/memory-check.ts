/**
 * Generates at a large scale and prints wall time and peak resident memory of this process:
 *
 *   node samples/generate/memory-check.ts [scale=200000] [seed=42]
 *   /usr/bin/time -v node samples/generate/memory-check.ts 1000000
 *
 * The files go to a temporary folder and the tables to a scratch database (`shop_generate_check`, on the
 * shop database's server), both removed afterwards: the shop database the tests and the demo use is not touched.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPool } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { generate } from "./index.ts";

const scale = Number(process.argv[2] ?? 200_000);
const seed = Number(process.argv[3] ?? 42);
const scratch = "shop_generate_check";

const shopUrl = new URL(settings().shopDatabaseUrl);
const admin = createPool(shopUrl.toString(), 1);
await admin.query(`drop database if exists ${scratch}`);
await admin.query(`create database ${scratch}`);
const scratchUrl = new URL(shopUrl);
scratchUrl.pathname = `/${scratch}`;
const shopPool = createPool(scratchUrl.toString());
const outDir = mkdtempSync(join(tmpdir(), "ingest-generate-check-"));
const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);
const started = performance.now();
const elapsed = () => ((performance.now() - started) / 1000).toFixed(1);

try {
  const report = await generate({
    scale,
    seed,
    outDir,
    shopPool,
    onProgress: ({ entity, generated, done }) => {
      if (done || generated % 500_000 === 0) {
        console.log(
          `${elapsed().padStart(7)} s  ${entity.padEnd(14)} ${String(generated).padStart(9)}${
            done ? " done" : ""
          }  rss ${mib(process.memoryUsage().rss)} MiB`,
        );
      }
    },
  });
  const records = Object.values(report.entities).reduce((sum, e) => sum + e.generated, 0);
  console.log(JSON.stringify({
    scale,
    seed,
    seconds: Number(elapsed()),
    records,
    // resourceUsage reports kibibytes on Linux
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    orderItems: report.entities.order_items.generated,
    chatMessages: report.entities.chat_messages.generated,
  }));
} finally {
  await shopPool.end();
  await admin.query(`drop database if exists ${scratch}`);
  await admin.end();
  rmSync(outDir, { recursive: true, force: true });
}
