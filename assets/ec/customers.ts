import { defineNodeAsset } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset } from "../../connectors/staging/index.ts";
import type { pg } from "../../resources/postgres.ts";
import { observeTable, readTable } from "../../connectors/postgres/index.ts";
import { Customer, customerKey } from "./models.ts";

/** Shop customers: emails normalised, phones in E.164, countries as ISO codes. */
export const stagedCustomers = defineStagedAsset<Customer, { shop: pg.Pool }>({
  key: "ec/customers",
  codeVersion: "1",
  table: "ec_customers",
  source: "shop.customers",
  model: Customer,
  sourceKey: customerKey,
  rawKey: (row) => row.customer_id,
  updatedAt: (c) => c.updatedAt,
  resources: ["shop"],
  extract: ({ resources: { shop } }) => readTable(shop, "select * from shop.customers order by customer_id"),
  observe: ({ resources: { shop } }) => observeTable(shop, "shop.customers", { updatedAt: "updated_at" }),
});

export const customerNodes = defineNodeAsset<Customer>({
  key: "graph/Customer",
  codeVersion: "1",
  label: "Customer",
  keyProperty: "customerId",
  indexes: ["email"],
  from: stagedCustomers,
  properties: (c) => ({ ...c }),
});
