import { mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { localPorts, settings, stateDir } from "../resources/settings.ts";
import { logFile, nodeBinary, startDetached, waitUntilReady } from "./process.ts";
import type { LocalService } from "./service.ts";

async function heartbeat(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/api/v2/heartbeat`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** The `chroma` CLI of the npm `chromadb` package (not in its exports map, so found beside its entry). */
const chromaCli = () => fileURLToPath(new URL("./cli.mjs", import.meta.resolve("chromadb")));

/**
 * Chroma's CLI exits 0 when its port is taken, and another server could answer the heartbeat: so
 * ready means our process printed its banner (after this start) and the heartbeat answers.
 */
export const chroma: LocalService = {
  name: "chroma",
  kind: "server",
  external: settings().external.chroma,
  location: () => settings().chromaUrl,
  isReachable: () => heartbeat(settings().chromaUrl),
  async start() {
    const dataDir = join(stateDir, "chroma");
    mkdirSync(dataDir, { recursive: true });
    const log = logFile("chroma");
    const logStart = (() => {
      try {
        return statSync(log).size;
      } catch {
        return 0;
      }
    })();
    const pid = startDetached({
      name: "chroma",
      command: nodeBinary(),
      args: [chromaCli(), "run", "--path", dataDir, "--host", "127.0.0.1", "--port", String(localPorts.chroma)],
      // SIGINT exits 0 after a clean shutdown; SIGTERM kills it by signal.
      stopSignal: "SIGINT",
    });
    const bannerPrinted = () => readFileSync(log).subarray(logStart).includes("Connect to Chroma at");
    await waitUntilReady("chroma", pid, async () => bannerPrinted() && (await heartbeat(settings().chromaUrl)), 60_000);
  },
};
