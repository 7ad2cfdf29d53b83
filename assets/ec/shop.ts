import type { ExtractContext, IncrementalSpec } from "../../connectors/staging/index.ts";
import type { MaterializeContext } from "../../engine/asset.ts";
import { observeTable, readTable } from "../../connectors/postgres/index.ts";
import type { pg } from "../../resources/postgres.ts";

export type Shop = { shop: pg.Pool };

/** How far before the last `updated_at` staged each read of a shop table starts again: commits that landed late. */
const lag = 10 * 60_000;
/** A shop table is read whole once a day, which finds the rows deleted since. */
const fullReadEveryMs = 24 * 3600_000;

/**
 * A table of the shop's database as a staged asset's source, read by its `updated_at`: the whole table the
 * first time (and once a day, after a code change, a delete, or the table made again), then only the rows
 * updated since the last read, less ten minutes. Its row count, latest `updated_at` and OID are its observed
 * version, so a change makes it stale without reading it. `orderBy` is the table's key columns (the read's order).
 */
export function shopTable<T extends { updatedAt: string }>(table: string, orderBy: string): {
  resources: ["shop"];
  extract: (ctx: ExtractContext<Shop>) => AsyncIterable<Record<string, unknown>>;
  observe: (ctx: MaterializeContext<Shop>) => Promise<Record<string, unknown>>;
  incremental: IncrementalSpec<T, Shop>;
} {
  const qualified = `shop.${table}`;
  // `latest` and `count` both ask before an incremental read: one query answers both.
  const asked = new WeakMap<MaterializeContext<Shop>, ReturnType<typeof observeTable>>();
  const version = (ctx: MaterializeContext<Shop>) => {
    const answer = asked.get(ctx) ??
      observeTable(ctx.resources.shop, qualified, { updatedAt: "updated_at", identity: true });
    asked.set(ctx, answer);
    return answer;
  };
  return {
    resources: ["shop"],
    extract: ({ resources: { shop }, since }) =>
      since === undefined
        ? readTable(shop, `select * from ${qualified} order by ${orderBy}`, [], { batchSize: 5_000 })
        : readTable(shop, `select * from ${qualified} where updated_at >= $1 order by ${orderBy}`, [since], {
          batchSize: 5_000,
        }),
    observe: ({ resources: { shop } }) => observeTable(shop, qualified, { updatedAt: "updated_at", identity: true }),
    incremental: {
      cursor: (row) => new Date(row.updatedAt),
      lag,
      fullReadEveryMs,
      latest: async (ctx) => {
        const { latest } = await version(ctx);
        return latest ? new Date(latest) : null;
      },
      count: async (ctx) => (await version(ctx)).rows,
      identity: async (ctx) => (await version(ctx)).identity ?? null,
    },
  };
}
