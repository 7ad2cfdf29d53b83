export { PaymentsClient } from "./client.ts";
export type { CreatedRange, PaymentsClientOptions, PaymentsObject } from "./client.ts";
export { paymentsResource } from "./resource.ts";
