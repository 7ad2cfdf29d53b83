import { defineDefinitions } from "ingest-graph";
import { productDocuments, productNodes, stagedProducts } from "./assets/products.ts";
import { resources } from "./resources/index.ts";
import { schedules } from "./schedules/index.ts";
import { sensors } from "./sensors/index.ts";

/** This project: what `ingest` loads from this folder. */
export default defineDefinitions({
  assets: [stagedProducts, productNodes, productDocuments],
  resources,
  schedules,
  sensors,
});
