import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../resources/settings.ts";

/** The front end's sources (Vite + Preact), in this repository only. */
export const webSources = join(packageRoot, "ui", "web");
/** Where `npm run build:ui` puts the built front end; an installed package ships it. */
export const webRoot = join(packageRoot, "ui", "web", "dist");

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "dist" || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Whether the built front end is missing or older than its sources (in a checkout, where they are). */
export function webBuildNeeded(): boolean {
  const index = join(webRoot, "index.html");
  if (!existsSync(index)) return true;
  if (!existsSync(join(webSources, "src"))) return false;
  return newest(webSources) > statSync(index).mtimeMs;
}

/**
 * Builds the front end with Vite when it is missing or stale: `ingest ui` in a checkout builds on first
 * use, as `npm run build:ui` does. An installed package ships it built (`npm pack` builds it first).
 */
export async function ensureWebBuilt(log: (line: string) => void = () => {}): Promise<string> {
  if (!webBuildNeeded()) return webRoot;
  if (!existsSync(join(webSources, "vite.config.ts"))) {
    throw new Error(`the UI's front end is not built (${webRoot}) and its sources are not here to build it`);
  }
  log("building the UI's front end (once; npm run build:ui does the same)…");
  const { build } = await import("vite");
  await build({ configFile: join(webSources, "vite.config.ts"), logLevel: "warn" });
  return webRoot;
}
