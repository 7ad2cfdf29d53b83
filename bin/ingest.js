#!/usr/bin/env node
// The CLI is TypeScript run by Node's type stripping (Node >= 22.18) or by Deno.
// When an older Node launched us, hand over to the Node the project installed.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const main = fileURLToPath(new URL("../cli/main.ts", import.meta.url));
const [major, minor] = process.versions.node.split(".").map(Number);
const isDeno = typeof globalThis.Deno !== "undefined";

if (isDeno || major > 22 || (major === 22 && minor >= 18)) {
  await import(main);
} else {
  const bundled = `${root}node_modules/node/bin/node`;
  if (!existsSync(bundled)) {
    console.error(
      `ingest needs Node.js >= 22.18 (this is ${process.versions.node}). ` +
        `Run 'npm install' in ${root} to get the bundled Node 24, or install Node 24 LTS.`,
    );
    process.exit(1);
  }
  const child = spawnSync(bundled, [main, ...process.argv.slice(2)], { stdio: "inherit" });
  process.exit(child.status ?? 1);
}
