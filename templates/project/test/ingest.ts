// The project's `ingest` command for its tests, on the runtime running them (`node --test`, or `deno test -A`).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const project = fileURLToPath(new URL("..", import.meta.url));
const bin = `${project}/node_modules/ingest-graph/bin/ingest.js`;
const runtime = "Deno" in globalThis ? [process.execPath, "run", "-A", bin] : [process.execPath, bin];

/** Runs `ingest --json …` in this project and parses what it prints. */
export function ingest(...args: string[]): unknown {
  const stdout = execFileSync(runtime[0]!, [...runtime.slice(1), "--json", ...args], {
    cwd: project,
    encoding: "utf8",
    env: { ...process.env, LOG_LEVEL: "warn" },
  });
  return JSON.parse(stdout);
}
