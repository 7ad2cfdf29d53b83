import { fileURLToPath } from "node:url";
import { defineFileSensor } from "ingest-graph";

/**
 * When `data/products.csv` is written (and has been quiet for two seconds), the products and what
 * reads them are materialised: `ingest daemon` runs this.
 */
export const productsFileChanged = defineFileSensor({
  name: "products_file",
  folder: fileURLToPath(new URL("../data", import.meta.url)),
  files: [{ glob: "products.csv", select: "shop/products+" }],
  complete: { quietMs: 2_000 },
});

/** Sensors, run by `ingest daemon`. */
export const sensors = [productsFileChanged];
