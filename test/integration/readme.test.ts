import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../resources/settings.ts";
import { exitOf, startUntil } from "../processes.ts";
import { readmeShellBlocks, walkthroughHeading } from "../readme.ts";

/**
 * Every `npx ingest …` command the README shows, run as a reader would run it, in the order the README
 * gives them, in this repository against a stack of its own: its own state folder and ports, started by
 * the README's own `npx ingest stack up` and stopped by its `npx ingest stack down` (run last, whatever
 * its place in the text). Commands that serve until stopped (worker, daemon, crm-api, ui, webhooks) are stopped with
 * SIGTERM once they are up, and must exit 0. `<runId>` stands for the latest run. The walkthrough's
 * commands ("Writing your own project") run in a project of their own, in test/integration/package.test.ts.
 */
const state = mkdtempSync(join(tmpdir(), "ingest-readme-"));
const node = join(packageRoot, "node_modules", ".bin");
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name]) =>
      !/^(INGEST_|DATABASE_URL|SHOP_DATABASE_URL|NEO4J_|CHROMA_URL|CRM_|MARIADB_URL|MONGODB_URL|KAFKA_BROKERS|RABBITMQ_URL|CHAT_API_|SHOP_GRAPHQL_URL|SHOP_ACCESS_TOKEN|PAYMENTS_|EMBEDDING_MODEL_PATH|VITEST)/
        .test(name) &&
      name !== "NODE_OPTIONS"
    ),
  ),
  PATH: `${node}:${process.env.PATH}`,
  INGEST_STATE_DIR: state,
  INGEST_POSTGRES_PORT: "56432",
  INGEST_NEO4J_PORT: "56687",
  INGEST_CHROMA_PORT: "56000",
  INGEST_CRM_API_PORT: "56080",
  INGEST_SAMPLE_APIS_PORT: "56082",
  INGEST_UI_PORT: "56090",
  INGEST_MARIADB_PORT: "56306",
  INGEST_FERRETDB_PORT: "56017",
  INGEST_KAFKA_PORT: "56092",
  INGEST_KAFKA_CONTROLLER_PORT: "56093",
  INGEST_RABBITMQ_PORT: "56672",
  INGEST_RABBITMQ_DIST_PORT: "56673",
  INGEST_RABBITMQ_EPMD_PORT: "56369",
  LOG_LEVEL: "warn",
  NO_COLOR: "1",
};
/** Commands that serve until stopped, and what they print (at LOG_LEVEL=info) once they are up. */
const serving: Record<string, RegExp> = {
  worker: /worker started/,
  daemon: /daemon started/,
  "crm-api": /crm-api ready/,
  "sample-apis": /sample-apis ready/,
  ui: /ingest ui listening on /,
  webhooks: /webhooks listening on /,
};

const readme = readmeShellBlocks();
const commands = readme.filter((b) => b.heading !== walkthroughHeading).flatMap((b) => b.commands)
  .filter((c) => c.startsWith("npx ingest "));

/** `npx ingest …` in this repository is `bin/ingest.js`; the shell reads the line's quotes as a reader's would. */
const shellLine = (command: string) =>
  command.replace(/^npx ingest /, `node ${join(packageRoot, "bin", "ingest.js")} `);

function run(command: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("sh", ["-c", shellLine(command)], {
    cwd: packageRoot,
    env,
    encoding: "utf8",
    timeout: 600_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Starts a serving command, waits until it says it is up, stops it with SIGTERM; its exit code. */
async function serve(command: string, ready: RegExp): Promise<{ code: number | null; output: string }> {
  const { child, output } = await startUntil(`exec ${shellLine(command)}`, {
    cwd: packageRoot,
    env: { ...env, LOG_LEVEL: "info" },
    ready,
  });
  child.kill("SIGTERM");
  return { code: await exitOf(child), output: output() };
}

let latestRun = "";

beforeAll(() => {
  // The scratch Postgres runs as the `postgres` user, which must reach its data folder in here.
  chmodSync(state, 0o755);
});

afterAll(() => {
  run("npx ingest stack down");
  // Whatever `stack down` could not stop (a broken build, say) must not outlive the test with its folder gone.
  const pids = join(state, "run");
  for (const file of existsSync(pids) ? readdirSync(pids) : []) {
    const pid = Number(readFileSync(join(pids, file), "utf8").split("\n")[0]);
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(state, { recursive: true, force: true });
});

describe("the README's commands", () => {
  it("are found: the CLI's, the dead letters', the daemon's", () => {
    expect(commands.length).toBeGreaterThan(25);
    for (const command of ["stack up", "materialize", "status", "lineage", "dead-letters", "daemon", "worker"]) {
      expect(commands.some((c) => c.startsWith(`npx ingest ${command}`)), command).toBe(true);
    }
  });

  const stackDown = commands.filter((c) => /^npx ingest stack down\b/.test(c));
  const inOrder = [...commands.filter((c) => !stackDown.includes(c)), ...stackDown];
  it.each(inOrder.map((c, i) => [i + 1, c]))("%i: %s", async (_, command) => {
    const line = (command as string).replaceAll("<runId>", latestRun);
    expect(line, "a placeholder the test does not fill").not.toMatch(/<[A-Za-z]+>/);
    const name = line.split(/\s+/)[2]!;
    if (serving[name]) {
      const { code, output } = await serve(line, serving[name]!);
      expect(code, output).toBe(0);
      return;
    }
    const result = run(line);
    expect(result.status, `${line}\n${result.stdout}\n${result.stderr}`).toBe(0);
    const runs = run("npx ingest --json runs -n 1");
    if (runs.status === 0) latestRun = (JSON.parse(runs.stdout) as { id: string }[])[0]?.id ?? latestRun;
  }, 600_000);
});
