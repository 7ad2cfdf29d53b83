import { eagerDownstream } from "./eager.ts";
import { chatExports, chatWebhooks, crmExports } from "./landing.ts";

/** Sensors of this project, run by `ingest daemon`. */
export const sensors = [chatWebhooks, chatExports, crmExports, eagerDownstream];
