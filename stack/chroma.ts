import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { localPorts, settings, stateDir } from "../resources/settings.ts";
import { nodeBinary, printsFromNow, startDetached, waitUntilReady } from "./process.ts";
import type { LocalService } from "./service.ts";

async function heartbeat(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/api/v2/heartbeat`, { signal: AbortSignal.timeout(2000) });
    return response.ok;
  } catch {
    return false;
  }
}

/** The `chroma` bin that the npm `chromadb` package declares (its file is not in the exports map). */
function chromaCli(): string {
  let dir = dirname(createRequire(import.meta.url).resolve("chromadb"));
  while (!existsSync(join(dir, "package.json"))) dir = dirname(dir);
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { bin: Record<string, string> };
  return join(dir, manifest.bin.chroma!);
}

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
    const printed = printsFromNow("chroma");
    const pid = startDetached({
      name: "chroma",
      command: nodeBinary(),
      args: [chromaCli(), "run", "--path", dataDir, "--host", "127.0.0.1", "--port", String(localPorts.chroma)],
      // SIGINT exits 0 after a clean shutdown; SIGTERM kills it by signal.
      stopSignal: "SIGINT",
    });
    await waitUntilReady(
      "chroma",
      pid,
      async () => printed("Connect to Chroma at") && (await heartbeat(settings().chromaUrl)),
      60_000,
    );
  },
};
