import type { Collection, Db, Document } from "mongodb";
import { badReasonOf, type Entity } from "../defects.ts";
import { type OnProgress, progressOf } from "../progress.ts";
import { type CatalogueReport, type EntityReport, Tally } from "../report.ts";
import type { World } from "../world.ts";
import { customerOfSession, session } from "./sessions.ts";
import { catalogueProduct } from "./variants.ts";

export interface CatalogueOutput {
  reports: Partial<Record<Entity, EntityReport>>;
  catalogue: CatalogueReport;
  /** Documents per collection, `catalog.products`. */
  collections: Record<string, number>;
}

/** Documents into a collection, 1,000 an `insertMany`. */
class Inserts {
  readonly #collection: Collection;
  #batch: Document[] = [];
  inserted = 0;

  constructor(collection: Collection) {
    this.#collection = collection;
  }

  async add(document: Document): Promise<void> {
    this.#batch.push(document);
    if (this.#batch.length >= 1_000) await this.end();
  }

  async end(): Promise<number> {
    if (this.#batch.length > 0) await this.#collection.insertMany(this.#batch, { ordered: true });
    this.inserted += this.#batch.length;
    this.#batch = [];
    return this.inserted;
  }
}

async function emptied(db: Db, name: string): Promise<Collection> {
  await db.collection(name).drop().catch((error: { codeName?: string }) => {
    if (error.codeName !== "NamespaceNotFound") throw error;
  });
  return db.collection(name);
}

/**
 * The product catalogue of a MongoDB database: `products` (the shop's products, each with its nested
 * `variants`) and `sessions` (web-shop visits, their page views nested), both rewritten. About 1 % of
 * the records drift in type (samples/generate/README.md says how).
 */
export async function writeCatalogue(world: World, db: Db, onProgress?: OnProgress): Promise<CatalogueOutput> {
  const variants = new Tally("variants", `MongoDB ${db.databaseName}.products (variants)`);
  const products = new Inserts(await emptied(db, "products"));
  const variantProgress = progressOf("variants", onProgress);
  let variantsOfLoadedProducts = 0;
  for (let p = 0, firstVariant = 0; p < world.sizes.products; p++) {
    const item = catalogueProduct(world, p, firstVariant);
    firstVariant += item.variantCount;
    const productLoads = badReasonOf("products", p) === undefined;
    for (const bad of item.records) {
      variants.record(bad);
      variantProgress.tick(variants.generated);
      if (!bad && productLoads) variantsOfLoadedProducts++;
    }
    await products.add(item.document);
  }
  variantProgress.done(variants.generated);
  const productCount = await products.end();

  const sessions = new Tally("sessions", `MongoDB ${db.databaseName}.sessions`);
  const sessionDocuments = new Inserts(await emptied(db, "sessions"));
  const sessionProgress = progressOf("sessions", onProgress);
  let sessionsOfLoadedCustomers = 0;
  for (let s = 0; s < world.sizes.sessions; s++) {
    const { document, bad } = session(world, s);
    sessions.record(bad);
    sessionProgress.tick(sessions.generated);
    const customer = customerOfSession(world, s);
    if (!bad && customer !== undefined && badReasonOf("customers", customer) === undefined) {
      sessionsOfLoadedCustomers++;
    }
    await sessionDocuments.add(document);
  }
  sessionProgress.done(sessions.generated);

  return {
    reports: { variants: variants.report(), sessions: sessions.report() },
    catalogue: { variantsOfLoadedProducts, sessionsOfLoadedCustomers },
    collections: {
      [`${db.databaseName}.products`]: productCount,
      [`${db.databaseName}.sessions`]: await sessionDocuments.end(),
    },
  };
}
