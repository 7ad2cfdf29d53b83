#!/usr/bin/env node
// The `ingest` command. In this repository it runs the TypeScript sources (Node's type stripping,
// Node >= 22.18, or Deno); in an installed package, the compiled JavaScript in dist/. When an older
// Node launched it, it hands over to the Node 24 of the npm package `node` installed for the project
// or for this package, if there is one.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const source = join(root, "cli", "main.ts");
const main = existsSync(source) ? source : join(root, "dist", "cli", "main.js");
const [major, minor] = process.versions.node.split(".").map(Number);
const isDeno = typeof globalThis.Deno !== "undefined";

function installedNode() {
  for (const start of [process.cwd(), root]) {
    for (let dir = start;; dir = dirname(dir)) {
      const candidate = join(dir, "node_modules", "node", "bin", "node");
      if (existsSync(candidate)) return candidate;
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

// `npx ingest worker` and `npm run` scripts start this under `sh -c`. On SIGTERM npm kills that shell, which
// dies without passing the signal on (npm/cli#6547), and this process would run on with parent 1 while a
// supervisor (systemd, Kubernetes) believes it stopped. Under npm, losing the parent is that SIGTERM.
if (process.env.npm_command !== undefined || process.env.npm_lifecycle_event !== undefined) {
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    process.kill(process.pid, "SIGTERM");
  }, 500);
  watch.unref();
}

if (isDeno || major > 22 || (major === 22 && minor >= 18)) {
  await import(main);
} else {
  const node = installedNode();
  if (!node) {
    console.error(
      `ingest needs Node.js >= 22.18 (this is ${process.versions.node}): install Node 24 LTS, ` +
        `or add the npm package 'node' to the project (npm install --save-dev node@24).`,
    );
    process.exit(1);
  }
  const child = spawn(node, [main, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
}
