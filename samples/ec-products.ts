import type pg from "pg";

/** A small, fixed product catalogue for the walking skeleton; `ingest generate` supersedes it. */
export const sampleProducts = [
  ["P-1001", "AUD-WH-01", "Aurora Wireless Headphones", "Over-ear Bluetooth headphones with active noise cancelling, 40-hour battery and a foldable design for travel.", "Audio", "149.00"],
  ["P-1002", "AUD-EB-02", "Pulse Wired Earbuds", "In-ear earbuds on a tangle-free 1.2 m cable with an inline microphone and volume remote.", "Audio", "19.90"],
  ["P-1003", "AUD-SP-03", "Boom Portable Speaker", "Waterproof Bluetooth speaker with deep bass, 12 hours of playback and a carabiner strap.", "Audio", "59.00"],
  ["P-1004", "CMP-MS-04", "Glide Wireless Mouse", "Ergonomic cordless mouse with a silent click, USB receiver and adjustable DPI for office work.", "Computers", "24.50"],
  ["P-1005", "KIT-KN-05", "Santoku Chef Knife", "Seven-inch stainless steel chef knife with a granton edge and a pakkawood handle.", "Kitchen", "39.00"],
  ["P-1006", "KIT-KT-06", "Rapid Electric Kettle", "1.7 litre glass kettle that boils in three minutes, with keep-warm and temperature presets.", "Kitchen", "34.99"],
  ["P-1007", "SPT-RS-07", "Stride Running Shoes", "Lightweight road running shoes with a breathable mesh upper and responsive foam cushioning.", "Sports", "89.00"],
  ["P-1008", "SPT-YM-08", "Grip Yoga Mat", "Six-millimetre non-slip yoga mat made of natural rubber, with a carrying strap.", "Sports", "29.00"],
  ["P-1009", "HOM-DL-09", "Lumen Desk Lamp", "LED desk lamp with five brightness levels, warm-to-cool colour temperature and a USB charging port.", "Home", "27.00"],
  ["P-1010", "ACC-CB-10", "Braided USB-C Cable", "Two-metre braided USB-C to USB-C charging cable supporting 100 W fast charging and data transfer.", "Accessories", "12.99"],
  ["P-1011", "BKS-NV-11", "The Quiet Harbour (Novel)", "A literary novel about a lighthouse keeper's family on a remote northern island.", "Books", "14.00"],
  ["P-1012", "TOY-BL-12", "Stacking Blocks Set", "Eighty colourful wooden building blocks for toddlers, in a storage tub with a shape-sorter lid.", "Toys", "32.00"],
] as const;

/** Creates `shop.products` and fills it with the sample catalogue (idempotent). */
export async function seedSampleProducts(pool: pg.Pool): Promise<number> {
  await pool.query("create schema if not exists shop");
  await pool.query(`create table if not exists shop.products (
    product_id text primary key,
    sku text not null,
    name text not null,
    description text,
    category text,
    price numeric(10, 2),
    currency char(3) not null default 'EUR',
    updated_at timestamptz not null default now())`);
  for (const [id, sku, name, description, category, price] of sampleProducts) {
    await pool.query(
      `insert into shop.products (product_id, sku, name, description, category, price, updated_at)
       values ($1, $2, $3, $4, $5, $6, '2026-01-01T00:00:00Z')
       on conflict (product_id) do nothing`,
      [id, sku, name, description, category, price],
    );
  }
  return sampleProducts.length;
}
