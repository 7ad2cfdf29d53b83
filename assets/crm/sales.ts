import { join } from "node:path";
import { defineCollectionAsset } from "../../connectors/chroma/index.ts";
import { defineNodeAsset, defineRelationshipAsset } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset } from "../../connectors/staging/index.ts";
import { sourcesDir } from "../../resources/settings.ts";
import { readCsv } from "../../connectors/csv/index.ts";
import { readExcelSheet } from "../../connectors/excel/index.ts";
import { type mysql, observeMysqlTable, readMysql } from "../../connectors/mariadb/index.ts";
import { companyNodes, contactNodes } from "./accounts.ts";
import { Deal, dealKey, Interaction, interactionKey, SalesRep, salesRepKey } from "./models.ts";

type CrmDatabase = { crmDatabase: mysql.Pool };

/** Sales reps from the HR roster, an Excel export (`crm/exports/sales-reps.xlsx`, sheet `Reps`). */
export const stagedSalesReps = defineStagedAsset<SalesRep>({
  key: "crm/sales_reps",
  codeVersion: "1",
  table: "crm_sales_reps",
  source: "crm/exports/sales-reps.xlsx",
  model: SalesRep,
  sourceKey: salesRepKey,
  rawKey: (row) => row["Owner ID"],
  extract: () => readExcelSheet(join(sourcesDir, "crm", "exports", "sales-reps.xlsx"), "Reps"),
});

export const salesRepNodes = defineNodeAsset<SalesRep>({
  key: "graph/SalesRep",
  codeVersion: "1",
  label: "SalesRep",
  keyProperty: "salesRepId",
  indexes: ["email"],
  from: stagedSalesReps,
  properties: (r) => ({ ...r }),
});

/** Deals from the CRM's own database (MariaDB, table `deals`); its companies and contacts come from its API. */
export const stagedDeals = defineStagedAsset<Deal, CrmDatabase>({
  key: "crm/deals",
  codeVersion: "2",
  table: "crm_deals",
  source: "crm.deals",
  model: Deal,
  sourceKey: dealKey,
  rawKey: (row) => row.deal_id,
  updatedAt: (d) => d.updatedAt,
  resources: ["crmDatabase"],
  extract: ({ resources: { crmDatabase } }) =>
    readMysql(crmDatabase, "select * from deals order by deal_id", [], { batchSize: 5_000 }),
  observe: ({ resources: { crmDatabase } }) => observeMysqlTable(crmDatabase, "deals", { updatedAt: "updated_at" }),
});

export const dealNodes = defineNodeAsset<Deal>({
  key: "graph/Deal",
  codeVersion: "1",
  label: "Deal",
  keyProperty: "dealId",
  indexes: ["stage"],
  from: stagedDeals,
  properties: (d) => ({ ...d }),
});

/** `(:SalesRep)-[:OWNS]->(:Deal)`. */
export const owns = defineRelationshipAsset<Deal>({
  key: "graph/OWNS",
  codeVersion: "1",
  type: "OWNS",
  from: stagedDeals,
  where: (d) => d.salesRepId !== null,
  start: { node: salesRepNodes, value: (d) => d.salesRepId },
  end: { node: dealNodes, value: (d) => d.dealId },
});

/** `(:Deal)-[:WITH]->(:Company)`. */
export const dealWith = defineRelationshipAsset<Deal>({
  key: "graph/Deal_WITH_Company",
  codeVersion: "1",
  type: "WITH",
  from: stagedDeals,
  where: (d) => d.companyId !== null,
  start: { node: dealNodes, value: (d) => d.dealId },
  end: { node: companyNodes, value: (d) => d.companyId },
});

/** Calls, emails and meetings from the CRM's CSV export, with their notes. */
export const stagedInteractions = defineStagedAsset<Interaction>({
  key: "crm/interactions",
  codeVersion: "1",
  table: "crm_interactions",
  source: "crm/exports/interactions.csv",
  model: Interaction,
  sourceKey: interactionKey,
  rawKey: (row) => row.interaction_id,
  updatedAt: (i) => i.occurredAt,
  extract: () => readCsv(join(sourcesDir, "crm", "exports", "interactions.csv")),
});

export const interactionNodes = defineNodeAsset<Interaction>({
  key: "graph/Interaction",
  codeVersion: "1",
  label: "Interaction",
  keyProperty: "interactionId",
  indexes: ["type"],
  from: stagedInteractions,
  properties: (i) => ({ ...i }),
});

/** `(:SalesRep)-[:HAD]->(:Interaction)`. */
export const had = defineRelationshipAsset<Interaction>({
  key: "graph/HAD",
  codeVersion: "1",
  type: "HAD",
  from: stagedInteractions,
  start: { node: salesRepNodes, value: (i) => i.salesRepId },
  end: { node: interactionNodes, value: (i) => i.interactionId },
});

/** `(:Interaction)-[:WITH]->(:Contact)`. */
export const interactionWith = defineRelationshipAsset<Interaction>({
  key: "graph/Interaction_WITH_Contact",
  codeVersion: "1",
  type: "WITH",
  from: stagedInteractions,
  start: { node: interactionNodes, value: (i) => i.interactionId },
  end: { node: contactNodes, value: (i) => i.contactId },
});

/** The `crm_notes` collection: each interaction's subject and notes. */
export const crmNoteVectors = defineCollectionAsset<Interaction>({
  key: "vectors/crm_notes",
  codeVersion: "1",
  collection: "crm_notes",
  from: stagedInteractions,
  document: (i) => [i.subject, i.notes].filter(Boolean).join(". "),
  metadata: (i) => ({
    interaction_id: i.interactionId,
    type: i.type,
    sales_rep_id: i.salesRepId,
    contact_id: i.contactId,
    occurred_at: Date.parse(i.occurredAt),
  }),
});
