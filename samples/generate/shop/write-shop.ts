import type pg from "pg";
import { badReasonOf, type Entity } from "../defects.ts";
import { ids } from "../links.ts";
import { type OnProgress, progressOf } from "../progress.ts";
import { type EntityReport, Tally } from "../report.ts";
import { TableBatch } from "../sinks/table-batch.ts";
import { DAY, EPOCH, isoMillis } from "../time.ts";
import { categories } from "../vocabulary/categories.ts";
import type { World } from "../world.ts";
import { customerColumns, customerRow } from "./customers.ts";
import {
  orderColumns,
  orderItemColumns,
  orderItemRow,
  orderRow,
  orderRowStream,
  paymentColumns,
  paymentRow,
  shipmentColumns,
  shipmentRow,
} from "./order-rows.ts";
import { order } from "./orders.ts";
import { productColumns, productRow } from "./products.ts";
import { reviewColumns, reviewRow } from "./reviews.ts";

// Messy columns (dates as written by people and older systems, prices) are text; the rest is typed.
// Primary keys are added after loading: the shop's source keys, so no duplicates can exist here.
const schema = `
create schema if not exists shop;
drop table if exists shop.categories, shop.customers, shop.products, shop.orders, shop.order_items, shop.reviews, shop.payments, shop.shipments cascade;
create table shop.categories (category_id text not null, name text, parent_id text, updated_at timestamptz not null);
create table shop.customers (customer_id text not null, email text, first_name text, last_name text, phone text, country text, created_at text, updated_at timestamptz not null);
create table shop.products (product_id text not null, sku text, name text, description text, category_id text, price text, currency char(3), updated_at timestamptz not null);
create table shop.orders (order_id text not null, customer_id text, status text, ordered_at text, currency char(3), total numeric(12, 2), updated_at timestamptz not null);
create table shop.order_items (order_id text not null, line_no int not null, product_id text, quantity int, unit_price numeric(12, 2), discount numeric(4, 3), updated_at timestamptz not null);
create table shop.reviews (review_id text not null, customer_id text, product_id text, rating int, title text, body text, created_at text, updated_at timestamptz not null);
create table shop.payments (payment_id text not null, order_id text, method text, amount numeric(12, 2), currency char(3), paid_at text);
create table shop.shipments (shipment_id text not null, order_id text, carrier text, tracking_number text, shipped_at text, delivered_at text, updated_at timestamptz not null);
`;

const primaryKeys = `
alter table shop.categories add primary key (category_id);
alter table shop.customers add primary key (customer_id);
alter table shop.products add primary key (product_id);
alter table shop.orders add primary key (order_id);
alter table shop.order_items add primary key (order_id, line_no);
alter table shop.reviews add primary key (review_id);
alter table shop.payments add primary key (payment_id);
alter table shop.shipments add primary key (shipment_id);
create index on shop.customers (updated_at);
create index on shop.orders (updated_at);
create index on shop.order_items (updated_at);
create index on shop.reviews (updated_at);
create index on shop.shipments (updated_at);
`;

export interface ShopOutput {
  reports: Partial<Record<Entity, EntityReport>>;
  tables: Record<string, number>;
}

/** Fills one table from `rowOf(index)` for every index below `count`. */
async function fill(
  pool: pg.Pool,
  entity: Entity,
  columns: readonly (readonly [string, string])[],
  count: number,
  rowOf: (index: number) => readonly (string | number | null)[],
  onProgress: OnProgress | undefined,
): Promise<EntityReport> {
  const table = `shop.${entity}`;
  const batch = new TableBatch(pool, table, columns);
  const tally = new Tally(entity, table);
  const progress = progressOf(entity, onProgress);
  for (let i = 0; i < count; i++) {
    await batch.add(rowOf(i));
    tally.record(badReasonOf(entity, i));
    progress.tick(i + 1);
  }
  await batch.end();
  progress.done(count);
  return tally.report();
}

/** Orders with their items, payments and shipments: one pass, four tables. */
async function fillOrders(
  world: World,
  pool: pg.Pool,
  onProgress: OnProgress | undefined,
): Promise<Partial<Record<Entity, EntityReport>>> {
  const batches = {
    orders: new TableBatch(pool, "shop.orders", orderColumns),
    order_items: new TableBatch(pool, "shop.order_items", orderItemColumns),
    payments: new TableBatch(pool, "shop.payments", paymentColumns),
    shipments: new TableBatch(pool, "shop.shipments", shipmentColumns),
  };
  const tallies = {
    orders: new Tally("orders", "shop.orders"),
    order_items: new Tally("order_items", "shop.order_items"),
    payments: new Tally("payments", "shop.payments"),
    shipments: new Tally("shipments", "shop.shipments"),
  };
  const progress = progressOf("orders", onProgress);
  let itemIndex = 0;
  for (let i = 0; i < world.sizes.orders; i++) {
    const o = order(world, i);
    const random = orderRowStream(world, o);
    await batches.orders.add(orderRow(random, o));
    tallies.orders.record(badReasonOf("orders", i));
    for (const line of o.lines) {
      await batches.order_items.add(orderItemRow(random, o, line, itemIndex));
      tallies.order_items.record(badReasonOf("order_items", itemIndex));
      itemIndex++;
    }
    await batches.payments.add(paymentRow(random, o));
    tallies.payments.record(badReasonOf("payments", i));
    if (o.shipment) {
      await batches.shipments.add(shipmentRow(random, o));
      tallies.shipments.record(badReasonOf("shipments", o.shipment.index));
    }
    progress.tick(i + 1);
  }
  await Promise.all(Object.values(batches).map((batch) => batch.end()));
  progress.done(world.sizes.orders);
  return {
    orders: tallies.orders.report(),
    order_items: tallies.order_items.report(),
    payments: tallies.payments.report(),
    shipments: tallies.shipments.report(),
  };
}

function categoryRow(i: number): (string | null)[] {
  const node = categories[i];
  if (!node) throw new Error(`no category ${i}`);
  const name = badReasonOf("categories", i) === "missing_required_field" ? null : node.name;
  return [
    ids.category(i),
    name,
    node.parent === undefined ? null : ids.category(node.parent),
    isoMillis(EPOCH - (400 - i) * DAY),
  ];
}

/** (Re)creates the eight `shop` tables and fills them. */
export async function writeShop(world: World, pool: pg.Pool, onProgress?: OnProgress): Promise<ShopOutput> {
  await pool.query(schema);
  const { sizes } = world;
  const reports: Partial<Record<Entity, EntityReport>> = {};
  reports.categories = await fill(
    pool,
    "categories",
    [["category_id", "text"], ["name", "text"], ["parent_id", "text"], ["updated_at", "timestamptz"]],
    sizes.categories,
    categoryRow,
    onProgress,
  );
  reports.customers = await fill(
    pool,
    "customers",
    customerColumns,
    sizes.customers,
    (k) => customerRow(world, k),
    onProgress,
  );
  reports.products = await fill(
    pool,
    "products",
    productColumns,
    sizes.products,
    (p) => productRow(world, p),
    onProgress,
  );
  Object.assign(reports, await fillOrders(world, pool, onProgress));
  reports.reviews = await fill(pool, "reviews", reviewColumns, sizes.reviews, (r) => reviewRow(world, r), onProgress);
  await pool.query(primaryKeys);
  const tables: Record<string, number> = {};
  for (
    const entity of [
      "categories",
      "customers",
      "products",
      "orders",
      "order_items",
      "reviews",
      "payments",
      "shipments",
    ] as const
  ) {
    tables[`shop.${entity}`] = reports[entity]?.generated ?? 0;
  }
  return { reports, tables };
}
