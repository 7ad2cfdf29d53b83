import { eagerDownstream } from "./eager.ts";
import { liveStreams } from "./streams.ts";
import { analyticsExports, chatExports, chatWebhooks, crmExports, shippingFeed } from "./landing.ts";

/** Sensors of this project, run by `ingest daemon`. */
export const sensors = [
  chatWebhooks,
  chatExports,
  crmExports,
  shippingFeed,
  analyticsExports,
  eagerDownstream,
  liveStreams,
];
