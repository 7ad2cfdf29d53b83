import type { ResourceDefinition } from "../../engine/resource.ts";
import { settings } from "../../resources/settings.ts";
import { apiClientResource } from "../http/resource.ts";
import { PaymentsClient, type PaymentsClientOptions } from "./client.ts";

/**
 * A {@link PaymentsClient} as a resource: the API at `PAYMENTS_API_URL` with the key `PAYMENTS_SECRET_KEY`
 * (or `PAYMENTS_SECRET_KEY_FILE`), else the local stack's sample payments API and its generated key.
 * `options` set the client's patience (rate, retries, timeouts).
 *
 * @example
 * ```ts
 * resources: { payments: paymentsResource({ requestsPerSecond: 100 }) },
 * // in a staged asset with resources: ["payments"]:
 * extract: ({ resources: { payments } }) => payments.list("charges"),
 * ```
 */
export function paymentsResource(
  options: Omit<PaymentsClientOptions, "baseUrl" | "secretKey"> = {},
): ResourceDefinition<PaymentsClient> {
  return apiClientResource(
    "payments-api",
    {
      variable: "PAYMENTS_SECRET_KEY",
      value: () => settings().paymentsApi.secretKey,
      sample: "the local sample payments API",
    },
    (secretKey) => new PaymentsClient({ ...options, baseUrl: settings().paymentsApi.url, secretKey }),
  );
}
