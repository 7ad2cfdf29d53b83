import { defineAsset } from "../../engine/asset.ts";
import { dailyPartitions } from "../../engine/partitions.ts";
import { versionHash } from "../../engine/versions.ts";
import { type Driver, ensureUniqueKey, neo4jKind } from "../../connectors/neo4j/index.ts";
import { type Staging, stagingKind } from "../../connectors/staging/index.ts";
import type { Order } from "./models.ts";
import { stagedOrders } from "./orders.ts";

/**
 * The shop's days in Berlin. The sample's orders end on 2025-12-29, so its days are its last month; a
 * real shop starts at its first day and leaves out `end`, and each night's schedule adds the day that ended.
 */
export const salesDays = dailyPartitions({ start: "2025-12-01", end: "2026-01-01", timezone: "Europe/Berlin" });

/**
 * `(:Day {date, orders, customers, currencies, revenues})`: a day's orders (cancelled ones left out),
 * its distinct customers, and its revenue per currency (`revenues[i]` in `currencies[i]`), one
 * partition a day. `ingest materialize graph/DailySales --from 2025-12-01 --to 2025-12-31` backfills.
 */
export const dailySales = defineAsset<{ staging: Staging; neo4j: Driver }>({
  key: "graph/DailySales",
  deps: [stagedOrders.key],
  resources: [stagingKind, neo4jKind],
  codeVersion: "1",
  partitions: salesDays,
  target: { kind: "neo4j-nodes", label: "Day", keyProperty: "date" },
  async materialize({ partitionKey, runId, assetKey, resources: { staging, neo4j } }) {
    const date = partitionKey!;
    const { start, end } = salesDays.window(date);
    const staged = await staging.readWindow<Order>(stagedOrders.staged.table, "orderedAt", start, end);
    const orders = staged.map((s) => s.record).filter((o) => o.status !== "cancelled");
    const revenue = new Map<string, number>();
    for (const o of orders) revenue.set(o.currency, (revenue.get(o.currency) ?? 0) + o.total);
    const currencies = [...revenue.keys()].sort();
    const day = {
      orders: orders.length,
      customers: new Set(orders.map((o) => o.customerId)).size,
      currencies,
      revenues: currencies.map((c) => Math.round(revenue.get(c)! * 100) / 100),
    };
    await ensureUniqueKey(neo4j, "Day", "date");
    await neo4j.executeQuery(
      `MERGE (d:Day {date: $date})
       SET d.orders = toInteger($day.orders), d.customers = toInteger($day.customers),
           d.currencies = $day.currencies, d.revenues = $day.revenues, d.ingestRunId = $runId, d.ingestAsset = $assetKey, d.ingestSource = $source,
           d.ingestSourceKey = $date, d.ingestContentHash = $hash`,
      { date, day, runId, assetKey, source: stagedOrders.staged.table, hash: versionHash(JSON.stringify(day)) },
    );
    return { counts: { orders: day.orders, read: staged.length }, dataVersion: versionHash(JSON.stringify(day)) };
  },
});
