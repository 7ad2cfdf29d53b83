import {
  type BadReason,
  catalogueEntities,
  type CatalogueEntity,
  defectRules,
  entities,
  type Entity,
} from "./defects.ts";

/** What was produced for one entity; `expectedLoaded = generated - Σ bad - duplicates` by construction. */
export interface EntityReport {
  /** Where the records are: a table (`shop.orders`) or files under the output folder. */
  source: string;
  /** Every record emitted, bad ones and duplicate copies included. */
  generated: number;
  /** Bad records by reason; every reason the entity uses is listed, zero or not. */
  bad: Partial<Record<BadReason, number>>;
  /** Extra copies of a source key already emitted (the older or identical version). */
  duplicates: number;
  /** Distinct good records: what a correct pipeline loads. */
  expectedLoaded: number;
}

export interface PeopleReport {
  /** Loaded customers who are also loaded CRM contacts (distinct people). */
  customersAlsoContacts: number;
  /** Loaded customers who started a loaded chat conversation (distinct people). */
  customersAlsoChatRequesters: number;
  /** Distinct normalised emails across loaded customers, contacts and conversation requesters. */
  distinctPeople: number;
}

export interface CatalogueReport {
  /** Loaded variants of loaded shop products: `(:Product)-[:HAS_VARIANT]->(:Variant)`. */
  variantsOfLoadedProducts: number;
  /** Loaded sessions of loaded customers: `(:Customer)-[:HAD_SESSION]->(:Session)`. */
  sessionsOfLoadedCustomers: number;
}

export interface GenerationReport {
  scale: number;
  seed: number;
  /** The instant every timestamp is derived from. */
  epoch: string;
  /** Every entity; the MongoDB catalogue's (`variants`, `sessions`) only when it was written. */
  entities: Record<Exclude<Entity, CatalogueEntity>, EntityReport> & Partial<Record<CatalogueEntity, EntityReport>>;
  /** What the graph links of the MongoDB catalogue must hold, when it was written. */
  catalogue?: CatalogueReport;
  people: PeopleReport;
  /**
   * Records per file, by path relative to the output folder: lines of JSONL, data rows of CSV and XLSX, `<event>`
   * elements of the tracking feed's XML, rows written to a Parquet file (the truncated one included).
   */
  files: Record<string, number>;
  /** Rows per shop table. */
  tables: Record<string, number>;
  /**
   * What the CRM's own database holds, per table (`companies`, `contacts`, `deals`), when it was written: one
   * row per source key, so no duplicates; the bad records are the API's.
   */
  crmDatabase?: Partial<Record<Entity, EntityReport>>;
  /** Documents per MongoDB collection (`catalog.products`), when the catalogue was written. */
  collections?: Record<string, number>;
}

/** Counts one entity's records as they are emitted. */
export class Tally {
  readonly entity: Entity;
  readonly source: string;
  generated = 0;
  duplicates = 0;
  readonly bad: Partial<Record<BadReason, number>>;

  constructor(entity: Entity, source: string) {
    this.entity = entity;
    this.source = source;
    this.bad = Object.fromEntries(defectRules[entity].reasons.map((reason) => [reason, 0]));
  }

  /** An original record (bad when `reason` is given). */
  record(reason: BadReason | undefined): void {
    this.generated++;
    if (reason) this.bad[reason] = (this.bad[reason] ?? 0) + 1;
  }

  /** A second copy of a good record. */
  duplicate(): void {
    this.generated++;
    this.duplicates++;
  }

  report(): EntityReport {
    const bad = Object.values(this.bad).reduce((sum, n) => sum + (n ?? 0), 0);
    return {
      source: this.source,
      generated: this.generated,
      bad: { ...this.bad },
      duplicates: this.duplicates,
      expectedLoaded: this.generated - bad - this.duplicates,
    };
  }
}

export function orderedEntities(reports: Partial<Record<Entity, EntityReport>>): GenerationReport["entities"] {
  return Object.fromEntries(entities.flatMap((entity) => {
    const report = reports[entity];
    if (report) return [[entity, report]];
    if ((catalogueEntities as readonly Entity[]).includes(entity)) return [];
    throw new Error(`no report for ${entity}`);
  })) as GenerationReport["entities"];
}
