export { generate, type GenerateOptions } from "./generate.ts";
export type { CatalogueReport, EntityReport, GenerationReport, PeopleReport } from "./report.ts";
export type { GenerationProgress, OnProgress } from "./progress.ts";
export {
  type BadReason,
  badReasonOf,
  badReasons,
  catalogueEntities,
  type CatalogueEntity,
  defectRules,
  entities,
  type Entity,
  isDuplicated,
  isRedelivered,
  variantsNotAnArray,
} from "./defects.ts";
export { customerOfSession } from "./catalogue/sessions.ts";
export { mulberry32, type Random, recordStream, streamTag } from "./random.ts";
export { createWorld, minimumScale, type Sizes, sizesFor, type World } from "./world.ts";
export {
  customerOfContact,
  customerOfConversation,
  customerOfOrder,
  ids,
  indexOfId,
  orderOfReview,
  ordersOfCustomer,
} from "./links.ts";
export { EPOCH, EXPORT_CUTOFF, unparseableDates } from "./time.ts";
export { categories, categoryPath } from "./vocabulary/categories.ts";
