import { defineNodeAsset } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset } from "../../connectors/staging/index.ts";
import { Customer, customerKey } from "./models.ts";
import { type Shop, shopTable } from "./shop.ts";

/** Shop customers: emails normalised, phones in E.164, countries as ISO codes. */
export const stagedCustomers = defineStagedAsset<Customer, Shop>({
  key: "ec/customers",
  codeVersion: "2",
  table: "ec_customers",
  source: "shop.customers",
  model: Customer,
  sourceKey: customerKey,
  rawKey: (row) => row.customer_id,
  updatedAt: (c) => c.updatedAt,
  ...shopTable<Customer>("customers", "customer_id"),
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
