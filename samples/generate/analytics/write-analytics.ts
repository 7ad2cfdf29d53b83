import { mkdir, stat, truncate } from "node:fs/promises";
import { setImmediate } from "node:timers/promises";
import { join } from "node:path";
import { type ColumnSource, fileWriter, ParquetWriter, schemaFromColumnData } from "hyparquet-writer";
import { badReasonOf, type Entity } from "../defects.ts";
import { ids } from "../links.ts";
import { type OnProgress, progressOf } from "../progress.ts";
import { LineFile } from "../sinks/line-file.ts";
import { EPOCH, isoSeconds } from "../time.ts";
import { chance, pick, recordStream, streamTag, weighted } from "../random.ts";
import { type EntityReport, Tally } from "../report.ts";
import { type Order, order } from "../shop/orders.ts";
import { eurRates, unknownCurrencies } from "../vocabulary/people.ts";
import type { World } from "../world.ts";
import { campaignIdsFor, campaigns } from "./campaigns.ts";

const ANALYTICS = streamTag("analytics.orders");
/** Rows per row group: a month of 1,000,000 orders (about 41,000) is five. */
const ROW_GROUP = 10_000;
/** How much of the last month's file is left: the export was copied while it was still being written. */
const TRUNCATED_TO = 0.6;

export interface AnalyticsOutput {
  reports: Partial<Record<Entity, EntityReport>>;
  files: Record<string, number>;
}

/** The columns of the export, in file order: what `schemaFromColumnData` types them as, and whether null may occur. */
export const analyticsColumns = [
  { name: "order_id", type: "STRING", nullable: false },
  { name: "customer_id", type: "STRING", nullable: false },
  { name: "ordered_at", type: "TIMESTAMP", nullable: false },
  { name: "channel", type: "STRING", nullable: true },
  { name: "device", type: "STRING", nullable: true },
  { name: "campaign", type: "STRING", nullable: true },
  { name: "items", type: "INT32", nullable: false },
  { name: "revenue", type: "DOUBLE", nullable: false },
  { name: "currency", type: "STRING", nullable: false },
  { name: "revenue_eur", type: "DOUBLE", nullable: false },
  { name: "margin_eur", type: "DOUBLE", nullable: false },
] as const satisfies readonly Omit<ColumnSource, "data">[];
type Column = (typeof analyticsColumns)[number]["name"];
/** One row of the export, by column. */
export type AnalyticsRow = Record<Column, string | number | Date | null>;

const round2 = (value: number) => Math.round(value * 100) / 100;
const month = (ms: number) => new Date(ms).toISOString().slice(0, 7);

/** Order `o` as the analytics platform exports it: attribution, basket size, revenue in EUR and margin. */
export function analyticsRow(world: World, o: Order): AnalyticsRow {
  const random = recordStream(world.seed, ANALYTICS, o.index);
  const channel = weighted(random, [["web", 55], ["app", 30], ["marketplace", 10], ["phone", 5]] as const);
  const device = channel === "app"
    ? pick(random, ["ios", "android"])
    : channel === "phone"
    ? null
    : weighted(random, [["desktop", 50], ["mobile", 42], ["tablet", 8]] as const);
  const revenueEur = round2(o.total / (eurRates[o.currency] ?? 1));
  const bad = badReasonOf("order_analytics", o.index);
  return {
    order_id: o.id,
    customer_id: ids.customer(o.customerIndex),
    ordered_at: new Date(o.orderedAt),
    channel: bad === "missing_required_field" ? null : channel,
    device,
    campaign: chance(random, 0.4) ? pick(random, campaignIdsFor(o.orderedAt)) : null,
    items: o.lines.reduce((sum, line) => sum + line.quantity, 0),
    revenue: o.total,
    currency: bad === "unknown_currency" ? pick(random, unknownCurrencies) : o.currency,
    revenue_eur: revenueEur,
    margin_eur: round2(revenueEur * (0.18 + random() * 0.24)),
  };
}

/** One month's file: rows go out a row group at a time, so memory holds at most one. */
class MonthFile {
  readonly path: string;
  rows = 0;
  #pending: AnalyticsRow[] = [];
  readonly #writer: ParquetWriter;

  constructor(path: string) {
    this.path = path;
    const schema = schemaFromColumnData({ columnData: analyticsColumns.map((c) => ({ ...c, data: [] })) });
    this.#writer = new ParquetWriter({ writer: fileWriter(path), schema, createdBy: "ingest-graph sample analytics" });
  }

  add(row: AnalyticsRow): void {
    this.#pending.push(row);
    this.rows += 1;
    if (this.#pending.length === ROW_GROUP) this.#flush();
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const rows = this.#pending;
    this.#pending = [];
    void this.#writer.write({
      columnData: analyticsColumns.map(({ name }) => ({ name, data: rows.map((row) => row[name]) })),
      rowGroupSize: ROW_GROUP,
    });
  }

  close(): void {
    this.#flush();
    void this.#writer.finish();
  }
}

/** `analytics/campaigns.json.gz`: the campaigns the orders are attributed to, one JSON document, a campaign a line. */
async function writeCampaigns(world: World, outDir: string): Promise<{ report: EntityReport; count: number }> {
  const tally = new Tally("campaigns", "analytics/campaigns.json.gz");
  const list = campaigns(world.seed);
  const file = new LineFile(join(outDir, "analytics", "campaigns.json.gz"));
  await file.write(`{"exportedAt": "${isoSeconds(EPOCH)}", "campaigns": [`);
  for (const [c, campaign] of list.entries()) {
    await file.write(`  ${JSON.stringify(campaign)}${c < list.length - 1 ? "," : ""}`);
    tally.record(badReasonOf("campaigns", c));
  }
  await file.write("]}");
  await file.close();
  return { report: tally.report(), count: list.length };
}

/**
 * The analytics platform's exports: `analytics/orders-2024-01.parquet` …, every order, one file a month of
 * `ordered_at` (UTC), row groups of 10,000; and `analytics/campaigns.json.gz`, the campaigns they name. The
 * last month's Parquet file is cut to 60 % of its bytes (copied while it was being written): unreadable, it
 * counts as one bad record, `truncated_file`, in the report.
 */
export async function writeAnalytics(world: World, outDir: string, onProgress?: OnProgress): Promise<AnalyticsOutput> {
  await mkdir(join(outDir, "analytics"), { recursive: true });
  const tally = new Tally("order_analytics", "analytics/orders-*.parquet");
  const progress = progressOf("order_analytics", onProgress);
  const files: Record<string, number> = {};
  let file: MonthFile | undefined;
  let fileName = "";
  const bad: (ReturnType<typeof badReasonOf>)[] = [];
  // a month's tally waits for the next month: the last month's rows are not records, its file is cut short
  const settle = () => {
    for (const reason of bad) tally.record(reason);
    bad.length = 0;
  };
  for (let i = 0; i < world.sizes.orders; i++) {
    const o = order(world, i);
    const name = `analytics/orders-${month(o.orderedAt)}.parquet`;
    if (name !== fileName) {
      file?.close();
      if (file) files[fileName] = file.rows;
      settle();
      fileName = name;
      file = new MonthFile(join(outDir, name));
    }
    file!.add(analyticsRow(world, o));
    bad.push(badReasonOf("order_analytics", i));
    progress.tick(i + 1);
    // The loop has no await of its own: a turn of the event loop a row group, so the other sources'
    // connections keep up (a MariaDB handshake starved for 17 s at 1,000,000 orders was cut off).
    if ((i + 1) % ROW_GROUP === 0) await setImmediate();
  }
  if (file) {
    file.close();
    files[fileName] = file.rows;
    const { size } = await stat(file.path);
    await truncate(file.path, Math.floor(size * TRUNCATED_TO));
    tally.record("truncated_file");
  }
  progress.done(world.sizes.orders);
  const written = await writeCampaigns(world, outDir);
  files["analytics/campaigns.json.gz"] = written.count;
  return { reports: { order_analytics: tally.report(), campaigns: written.report }, files };
}
