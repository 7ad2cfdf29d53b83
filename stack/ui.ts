import { codeFile, localPorts } from "../resources/settings.ts";
import { nodeBinary, printsFromNow, startDetached, waitUntilReady } from "./process.ts";
import type { LocalService } from "./service.ts";

const url = () => `http://127.0.0.1:${localPorts.ui}`;

async function answers(): Promise<boolean> {
  try {
    // Any answer of its API (401 with a token) means the UI is up.
    const response = await fetch(`${url()}/api/settings`, { signal: AbortSignal.timeout(2000) });
    return response.status === 200 || response.status === 401;
  } catch {
    return false;
  }
}

/**
 * `ingest ui --worker` in the background, on 127.0.0.1 (`INGEST_UI_PORT`, 58090): what `npm run demo`
 * leaves running. With a worker inside, so its buttons run what they request. Optional: `stack up`
 * starts it only when named (`npx ingest stack up ui`); `stack down` stops it.
 */
export const ui: LocalService = {
  name: "ui",
  kind: "server",
  optional: true,
  external: false,
  location: url,
  isReachable: answers,
  async start() {
    const printed = printsFromNow("ui");
    const definitions = process.env.INGEST_DEFINITIONS;
    const pid = startDetached({
      name: "ui",
      command: nodeBinary(),
      args: [
        codeFile("cli/main"),
        ...(definitions ? ["--definitions", definitions] : []),
        "ui",
        "--worker",
        "--port",
        String(localPorts.ui),
      ],
    });
    // The first start in a checkout builds the front end.
    await waitUntilReady("ui", pid, async () => printed("ingest ui listening") && (await answers()), 180_000);
  },
};
