import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium as playwright } from "playwright-core";
import { chromium } from "../stack/system.ts";

/** Debian's Chromium, headless, on a profile of its own that is deleted after: `await using`. */
export async function openBrowser(
  options: { width?: number; height?: number } = {},
): Promise<BrowserContext & AsyncDisposable> {
  const executablePath = chromium();
  if (!executablePath) throw new Error("no Chromium: install Debian's `chromium` package (apt-get install chromium)");
  const profile = mkdtempSync(join(tmpdir(), "ingest-chromium-"));
  const context = await playwright.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: options.width ?? 1440, height: options.height ?? 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return Object.assign(context, {
    async [Symbol.asyncDispose]() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  });
}
