export { CrmClient, CrmError } from "./client.ts";
export type { CrmClientOptions, CrmClientStats, CrmObject, CrmObjectType } from "./client.ts";
