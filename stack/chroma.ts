import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { localPorts, settings, stateDir } from "../resources/settings.ts";
import { nodeBinary, printsFromNow, startDetached, waitUntilReady } from "./process.ts";
import type { LocalService } from "./service.ts";
import { freePort, stopThrowaway, trackThrowaway } from "./throwaway.ts";

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

/** A Chroma of its own for one benchmark or test: an empty store on a free port, deleted when stopped. */
export interface ThrowawayChroma {
  url: string;
  stop(): Promise<void>;
}

export async function startThrowawayChroma(): Promise<ThrowawayChroma> {
  mkdirSync(join(stateDir, "throwaway"), { recursive: true });
  const home = mkdtempSync(join(stateDir, "throwaway", "chroma-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    nodeBinary(),
    [chromaCli(), "run", "--path", home, "--host", "127.0.0.1", "--port", String(port)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  trackThrowaway(child, home);
  let output = "";
  const collect = (chunk: Buffer) => void (output = (output + chunk.toString()).slice(-8_000));
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const stop = () => stopThrowaway(child, home, { signal: "SIGINT", graceMs: 30_000 });
  for (const started = Date.now(); Date.now() - started < 60_000; await sleep(200)) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`a throwaway Chroma exited (${child.exitCode}) during start-up:\n${output.trimEnd()}`);
    }
    if (output.includes("Connect to Chroma at") && (await heartbeat(url))) return { url, stop };
  }
  await stop();
  throw new Error(`a throwaway Chroma on port ${port} was not ready after 60 s`);
}
