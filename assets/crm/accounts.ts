import { defineNodeAsset, defineRelationshipAsset } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset } from "../../connectors/staging/index.ts";
import type { CrmClient } from "../../connectors/crm-api/index.ts";
import { Company, companyKey, Contact, contactKey } from "./models.ts";

type Crm = { crm: CrmClient };

/** Companies from the CRM's REST API (paginated, OAuth2 client credentials, rate limited). */
export const stagedCompanies = defineStagedAsset<Company, Crm>({
  key: "crm/companies",
  codeVersion: "1",
  table: "crm_companies",
  source: "crm.api.companies",
  model: Company,
  sourceKey: companyKey,
  rawKey: (object) => object.id,
  updatedAt: (c) => c.updatedAt,
  resources: ["crm"],
  extract: ({ resources: { crm } }) => crm.objects("companies"),
});

export const companyNodes = defineNodeAsset<Company>({
  key: "graph/Company",
  codeVersion: "1",
  label: "Company",
  keyProperty: "companyId",
  indexes: ["domain"],
  from: stagedCompanies,
  properties: (c) => ({ ...c }),
});

export const stagedContacts = defineStagedAsset<Contact, Crm>({
  key: "crm/contacts",
  codeVersion: "1",
  table: "crm_contacts",
  source: "crm.api.contacts",
  model: Contact,
  sourceKey: contactKey,
  rawKey: (object) => object.id,
  updatedAt: (c) => c.updatedAt,
  resources: ["crm"],
  extract: ({ resources: { crm } }) => crm.objects("contacts"),
});

export const contactNodes = defineNodeAsset<Contact>({
  key: "graph/Contact",
  codeVersion: "1",
  label: "Contact",
  keyProperty: "contactId",
  indexes: ["email"],
  from: stagedContacts,
  properties: (c) => ({ ...c }),
});

/** `(:Contact)-[:WORKS_AT]->(:Company)`. */
export const worksAt = defineRelationshipAsset<Contact>({
  key: "graph/WORKS_AT",
  codeVersion: "1",
  type: "WORKS_AT",
  from: stagedContacts,
  where: (c) => c.companyId !== null,
  start: { node: contactNodes, value: (c) => c.contactId },
  end: { node: companyNodes, value: (c) => c.companyId },
  properties: (c) => ({ jobTitle: c.jobTitle }),
});
