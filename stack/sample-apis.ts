import { codeFile, localPorts } from "../resources/settings.ts";
import { nodeBinary, printsFromNow, startDetached, waitUntilReady } from "./process.ts";
import { ensureSecret } from "./secrets.ts";
import type { LocalService } from "./service.ts";

const location = () => `http://127.0.0.1:${localPorts.sampleApis}`;

async function answers(): Promise<boolean> {
  try {
    // An unauthenticated request: any HTTP answer means the server is up.
    const response = await fetch(`${location()}/chat/api/v2/incremental/tickets/cursor.json`, {
      signal: AbortSignal.timeout(2000),
    });
    await response.body?.cancel();
    return response.status > 0;
  } catch {
    return false;
  }
}

/**
 * The sample chat (Zendesk-shaped), shop GraphQL (Shopify-shaped) and payments (Stripe-shaped) APIs in one
 * process (`ingest sample-apis`), standing in for the SaaS APIs on a machine that cannot reach them. The
 * environment points the bundled assets at real ones instead (`CHAT_API_URL`, `SHOP_GRAPHQL_URL`,
 * `PAYMENTS_API_URL`); with all three set, the stack only checks.
 */
export const sampleApis: LocalService = {
  name: "sample-apis",
  kind: "server",
  sample: true,
  external: ["CHAT_API_URL", "SHOP_GRAPHQL_URL", "PAYMENTS_API_URL"].every((name) => process.env[name] !== undefined),
  location,
  isReachable: answers,
  async start() {
    for (const name of ["chat-api", "shop-api", "payments-api", "chat-webhook"] as const) ensureSecret(name);
    const printed = printsFromNow("sample-apis");
    const pid = startDetached({
      name: "sample-apis",
      command: nodeBinary(),
      args: [codeFile("cli/main"), "sample-apis"],
    });
    await waitUntilReady("sample-apis", pid, async () => printed("sample-apis ready") && (await answers()), 30_000);
  },
};
