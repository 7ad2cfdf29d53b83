import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import definitions from "../definitions.ts";
import { packageRoot } from "../resources/settings.ts";
import { type BenchResult, result } from "./report.ts";

/**
 * How fast the CLI answers: wall time of whole processes, `ingest --help` and `ingest status` (the
 * bundled project against the running stack, its observable sources asked first) beside `node -e 0` (the runtime's own
 * start), and `--help` beside importing every command's module (what each command cost before
 * commands loaded lazily). The commands take turns, `rounds` times; medians of each.
 */
const rounds = Number(process.env.CLI_BENCH_ROUNDS ?? 15);
const main = join(packageRoot, "cli", "main.ts");
const commandModules = readdirSync(join(packageRoot, "cli")).filter((f) =>
  f.endsWith(".ts") && f !== "main.ts" &&
  f !== "program.ts"
).map((f) => pathToFileURL(join(packageRoot, "cli", f)).href);

function wallMs(args: string[]): number {
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, LOG_LEVEL: "warn" } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (child.status !== 0) throw new Error(`${args.join(" ")} exited ${child.status}: ${child.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

export async function cliBench(): Promise<BenchResult[]> {
  const commands = {
    bare: ["-e", "0"],
    help: [main, "--help"],
    status: [main, "status"],
    eager: ["--input-type=module", "-e", `await Promise.all(${JSON.stringify(commandModules)}.map((m) => import(m)))`],
  };
  const times = Object.fromEntries(Object.keys(commands).map((k) => [k, [] as number[]])) as Record<
    keyof typeof commands,
    number[]
  >;
  wallMs(commands.status); // the first status may migrate a fresh database: not part of the measurement
  for (let round = 0; round < rounds; round++) {
    for (const [name, args] of Object.entries(commands)) times[name as keyof typeof commands].push(wallMs(args));
  }
  const [bare, help, status, eager] = [times.bare, times.help, times.status, times.eager].map(median) as [
    number,
    number,
    number,
    number,
  ];
  const note = `medians of ${rounds} rounds, commands taking turns; node -e 0 took ${bare.toFixed(0)} ms`;
  return [
    result("ingest --help, wall time vs node -e 0", help, bare, "ms", "<= 5", `${note}; the issue's bound: help ≤ 1 s`),
    result(
      "ingest status (the bundled project, running stack), wall time vs node -e 0",
      status,
      bare,
      "ms",
      "<= 25",
      `${note}; ${definitions.assets.length} assets, ${
        definitions.assets.filter((a) => a.observe).length
      } of them observable sources, each asked for its version`,
    ),
    result(
      "ingest --help vs importing every command module (the eager CLI)",
      help,
      eager,
      "ms",
      "<= 0.5",
      `${note}; the eager figure is what every command paid for loading before it ran`,
    ),
  ];
}
