import { codeFile, settings } from "../resources/settings.ts";
import { nodeBinary, printsFromNow, startDetached, waitUntilReady } from "./process.ts";
import { ensureSecret } from "./secrets.ts";
import type { LocalService } from "./service.ts";

async function answers(url: string): Promise<boolean> {
  try {
    // An unauthenticated token request: any HTTP answer means the API is up.
    const response = await fetch(`${url}/oauth/token`, { method: "POST", signal: AbortSignal.timeout(2000) });
    return response.status > 0;
  } catch {
    return false;
  }
}

/**
 * The sample CRM's REST API (`ingest crm-api`), standing in for HubSpot on a machine that cannot
 * reach it. `CRM_API_URL` points the CRM assets at a real one instead.
 */
export const crmApi: LocalService = {
  name: "crm-api",
  kind: "server",
  sample: true,
  external: process.env.CRM_API_URL !== undefined,
  location: () => settings().crm.url,
  isReachable: () => answers(settings().crm.url),
  async start() {
    ensureSecret("crm");
    const printed = printsFromNow("crm-api");
    const pid = startDetached({
      name: "crm-api",
      command: nodeBinary(),
      args: [codeFile("cli/main"), "crm-api"],
    });
    await waitUntilReady(
      "crm-api",
      pid,
      async () => printed("crm-api ready") && (await answers(settings().crm.url)),
      30_000,
    );
  },
};
