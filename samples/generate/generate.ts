import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Db } from "mongodb";
import type { Pool as MysqlPool } from "mysql2/promise";
import type pg from "pg";
import { writeCatalogue } from "./catalogue/write-catalogue.ts";
import { writeChat } from "./chat/write-chat.ts";
import { writeCrm } from "./crm/write-crm.ts";
import { writeAnalytics } from "./analytics/write-analytics.ts";
import { writeTracking } from "./shipping/write-tracking.ts";
import { writePayments } from "./payments/write-payments.ts";
import type { OnProgress } from "./progress.ts";
import { type GenerationReport, orderedEntities } from "./report.ts";
import { writeShop } from "./shop/write-shop.ts";
import { EPOCH } from "./time.ts";
import { createWorld } from "./world.ts";

export interface GenerateOptions {
  /** N: the number of e-commerce orders; every other count follows from it (`sizesFor`). */
  scale: number;
  /** Same scale and seed, same bytes and rows. */
  seed: number;
  /** Receives `crm/`, `chat/`, `shipping/`, `analytics/`, `payments/` and `report.json` (the folders are replaced). */
  outDir: string;
  /** The shop database: its `shop` schema's eight tables are dropped and recreated. */
  shopPool: pg.Pool;
  /**
   * The CRM's own database (MySQL or MariaDB): its tables `companies`, `contacts` and `deals` are dropped and
   * refilled with the records the API serves, and the report's `deals` are then that table's (the bundled
   * project reads its deals there), `crmDatabase` says what each table holds. Without it only the API's files
   * are written.
   */
  crmDatabase?: MysqlPool;
  /**
   * The catalogue's MongoDB database: its `products` and `sessions` collections are dropped and rewritten.
   * Without it the catalogue is not written, and the report has no `variants`, `sessions` or `catalogue`.
   */
  catalog?: Db;
  onProgress?: OnProgress;
}

/**
 * Writes the three sample systems of `samples/SOURCES.md`, deterministically and in bounded memory, and
 * returns (and writes to `<outDir>/report.json`) what a correct pipeline must load.
 *
 * @example
 * const shopPool = createPool(settings().shopDatabaseUrl);
 * const report = await generate({ scale: 10_000, seed: 42, outDir: "data/sample", shopPool });
 * console.log(report.entities.orders.expectedLoaded); // 9,900: 100 orders are bad
 */
export async function generate(options: GenerateOptions): Promise<GenerationReport> {
  const world = createWorld(options.scale, options.seed);
  const { outDir, onProgress } = options;
  await mkdir(outDir, { recursive: true });
  await Promise.all(
    ["crm", "chat", "shipping", "analytics", "payments", "report.json"].map((name) =>
      rm(join(outDir, name), { recursive: true, force: true })
    ),
  );

  // the shipping provider's tracking feed, the analytics platform's order export and the payment provider's
  // charges and refunds (its API serves them): files of their own
  const exported = Promise.all([
    writeTracking(world, outDir, onProgress),
    writeAnalytics(world, outDir, onProgress),
    writePayments(world, outDir),
  ]);
  exported.catch(() => undefined); // awaited below, unless another source failed first
  // three independent sources: the database works while the files are written
  const results = await Promise.allSettled([
    writeShop(world, options.shopPool, onProgress),
    writeCrm(world, outDir, onProgress, options.crmDatabase),
    writeChat(world, outDir, onProgress),
    options.catalog ? writeCatalogue(world, options.catalog, onProgress) : undefined,
  ]);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure) throw failure.reason;
  const [shipping, analytics, payments] = await exported;
  const [shop, crm, chat, catalogue] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    Awaited<ReturnType<typeof writeShop>>,
    Awaited<ReturnType<typeof writeCrm>>,
    Awaited<ReturnType<typeof writeChat>>,
    Awaited<ReturnType<typeof writeCatalogue>> | undefined,
  ];

  const entities = orderedEntities({
    ...shop.reports,
    ...crm.reports,
    ...chat.reports,
    ...shipping.reports,
    ...analytics.reports,
    // payments are read from the payment provider's charges (the shop's table holds the same, bad ones alike)
    ...payments.reports,
    ...catalogue?.reports,
  });
  const report: GenerationReport = {
    scale: options.scale,
    seed: options.seed,
    epoch: new Date(EPOCH).toISOString(),
    entities,
    people: {
      customersAlsoContacts: crm.contactsWhoAreCustomers,
      customersAlsoChatRequesters: chat.requestersWhoAreCustomers,
      // every good customer has an address of their own; other contacts and requesters have addresses no one else has
      distinctPeople: entities.customers.expectedLoaded + crm.contactsWhoAreNotCustomers +
        chat.requestersWhoAreNotCustomers,
    },
    files: Object.fromEntries(
      Object.entries({ ...crm.files, ...chat.files, ...shipping.files, ...analytics.files, ...payments.files }).sort((
        [a],
        [b],
      ) => (a < b ? -1 : 1)),
    ),
    tables: shop.tables,
    ...(crm.database ? { crmDatabase: crm.database } : {}),
    ...(catalogue ? { catalogue: catalogue.catalogue, collections: catalogue.collections } : {}),
  };
  await writeFile(join(outDir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
