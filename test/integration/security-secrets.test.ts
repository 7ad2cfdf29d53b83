import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureSecret } from "../../stack/secrets.ts";
import { runningPid } from "../../resources/local-services.ts";
import { packageRoot, settings, stateDir } from "../../resources/settings.ts";
import { recordFigure } from "../reliability.ts";
import { describeHits, describeScan, planted, scanForSecrets, secretsToFind } from "../secrets-scan.ts";
import { dropDatabase, freshDatabase } from "../support.ts";

/**
 * Secrets stay secret: a project reads an API key and a bearer token from the environment (`envSecret`) and
 * gives them to an API that answers with them in its errors, asks it through the framework's HTTP client and
 * the way a user's own `fetch` does, logs the request with its headers, and fails; another run is given the
 * stack's own database and Neo4j passwords in URLs that lead nowhere. Every CLI command's output about
 * those runs (`--json`, text, `--debug`, pretty logs), the runs' rows (steps, materialisations, dead
 * letters, jobs…) and their spans in Jaeger, then hold neither the planted values nor any generated secret.
 * Secret files are 0600. The suite's last word on this is the scan test/setup/stack.ts runs after every file.
 */
const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "bin", "ingest.js");
const project = mkdtempSync(join(tmpdir(), "ingest-security-secrets-"));
const database = `ingest_security_secrets_${process.pid}`;
const startedAt = new Date();
let api: Server;
let env: NodeJS.ProcessEnv;
/** Every command's output, by what was run: scanned here, and saved for the scan after the suite. */
const outputs: [where: string, text: string][] = [];

/** An API that wants both planted values, and quotes them back in every failure, as careless servers do. */
function plantedApi(): Promise<Server> {
  const server = createServer((request, response) => {
    const url = new URL(request.url!, "http://api");
    const authorized = request.headers.authorization === `Bearer ${planted.authorization}` &&
      url.searchParams.get("api_key") === planted.apiKey;
    const echo = `${request.method} ${request.url} with Authorization: ${request.headers.authorization}`;
    response.setHeader("content-type", "application/json");
    if (!authorized || url.pathname === "/customers") {
      response.writeHead(401).end(JSON.stringify({ error: { message: `not authorized: ${echo}` } }));
    } else if (url.pathname === "/items") {
      // One record the model refuses: a dead letter of an authenticated source.
      response.end(JSON.stringify({ items: [{ id: "i1", name: "one" }, { id: "bad id", name: "two" }] }));
    } else {
      response.writeHead(500).end(JSON.stringify({ error: { message: `upstream failed for ${echo}` } }));
    }
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

beforeAll(async () => {
  api = await plantedApi();
  const base = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  mkdirSync(join(project, "node_modules"));
  symlinkSync(packageRoot, join(project, "node_modules", "ingest-graph"));
  symlinkSync(join(packageRoot, "node_modules", "zod"), join(project, "node_modules", "zod"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "secrets-project", type: "module" }));
  writeFileSync(
    join(project, "definitions.ts"),
    `import { defineAsset, defineDefinitions, defineNodeAsset, defineStagedAsset, envSecret, HttpClient, neo4jResource, stagingResource } from "ingest-graph";
import { z } from "zod";

const base = ${JSON.stringify(base)};
// As a user reads credentials: from the environment, through envSecret.
const apiKey = () => envSecret("PLANTED_API_KEY")!;
const token = () => envSecret("PLANTED_API_TOKEN")!;
const auth = { headers: () => ({ authorization: \`Bearer \${token()}\` }) };
const client = () => new HttpClient("planted API", { maxAttempts: 2, backoffMs: 1 }, [apiKey(), token()]);

const items = defineStagedAsset({
  key: "api/items", table: "planted_items", source: "planted API /items", codeVersion: "1",
  model: z.object({ id: z.string().regex(/^i\\d+$/), name: z.string() }),
  sourceKey: (i) => i.id, rawKey: (i) => i.id,
  async *extract() {
    const body = await client().json(new URL(\`\${base}/items?api_key=\${apiKey()}\`), auth) as { items: unknown[] };
    yield* body.items;
  },
});
// The framework's client: a 500 retried (and logged), then an ApiError.
const orders = defineAsset({
  key: "api/orders", codeVersion: "1", retry: { maxAttempts: 1 },
  async materialize({ log }) {
    log.info({ url: \`\${base}/orders?api_key=\${apiKey()}\`, headers: { Authorization: \`Bearer \${token()}\` }, apiKey: apiKey() }, "asking for orders");
    await client().json(new URL(\`\${base}/orders?api_key=\${apiKey()}\`), auth);
    return {};
  },
});
// A user's own fetch: the URL, the headers sent and the server's answer in the error, tried twice.
const customers = defineAsset({
  key: "api/customers", codeVersion: "1", retry: { maxAttempts: 2, initialDelayMs: 10 },
  async materialize() {
    const url = \`\${base}/customers?api_key=\${apiKey()}\`;
    const response = await fetch(url, { headers: { authorization: \`Bearer \${token()}\` } });
    throw new Error(\`GET \${url} with Authorization: Bearer \${token()} answered \${response.status}: \${await response.text()}\`);
  },
});
// Nodes into a Neo4j that is not there, logged in with the password the environment gives.
const itemNodes = defineNodeAsset({
  key: "graph/PlantedItem", codeVersion: "1", label: "PlantedItem", keyProperty: "id", from: items,
  retry: { maxAttempts: 1 }, properties: (i) => ({ ...i }),
});
export default defineDefinitions({
  assets: [items, orders, customers, itemNodes],
  resources: { staging: stagingResource(), neo4j: neo4jResource() },
});
`,
  );
  env = {
    ...process.env,
    DATABASE_URL: await freshDatabase(database),
    INGEST_STATE_DIR: stateDir,
    PLANTED_API_KEY: planted.apiKey,
    PLANTED_API_TOKEN: planted.authorization,
    // The stack's own Neo4j password, for a Neo4j that does not answer: the failure must not quote it.
    NEO4J_URI: "bolt://127.0.0.1:9",
    NEO4J_PASSWORD: ensureSecret("neo4j"),
    // How long a run waits for that Neo4j before it fails.
    INGEST_STORE_OUTAGE_MS: "2000",
    LOG_LEVEL: "debug",
  };
  delete env.INGEST_DEFINITIONS;
}, 120_000);

afterAll(async () => {
  await new Promise((resolve) => api?.close(resolve));
  await dropDatabase(database);
  rmSync(project, { recursive: true, force: true });
});

/**
 * Runs the CLI in the project, keeping what it printed (both streams) under the command run. Not spawnSync:
 * the planted API answers from this process, which must not be blocked meanwhile.
 */
async function ingest(args: string[], extra: NodeJS.ProcessEnv = {}) {
  const child = spawn(node, [cli, ...args], { cwd: project, env: { ...env, ...extra } });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const status = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  }).finally(() => clearTimeout(timer));
  const where = `ingest ${args.join(" ")}${Object.keys(extra).length ? ` (${Object.keys(extra).join(", ")})` : ""}`;
  outputs.push([`${where}: stdout`, stdout], [`${where}: stderr`, stderr]);
  return { status, stdout, stderr };
}

describe("planted secrets", () => {
  it("appear in no CLI output, no row and no span of runs that used them and failed", async () => {
    const failed = await ingest(["--json", "materialize", "--wait"]);
    expect(failed.status, failed.stderr).toBe(1);
    const { run, steps } = JSON.parse(failed.stdout) as {
      run: { id: string; status: string };
      steps: { assetKey: string; status: string; error: string | null }[];
    };
    expect(run.status).toBe("failed");
    // Each failed as meant: the secrets were used, and the server quoted them back.
    const step = (key: string) => steps.find((s) => s.assetKey === key)!;
    expect(step("api/items").status).toBe("succeeded");
    expect(step("api/orders").error).toContain("500 Internal Server Error");
    expect(step("api/customers").error).toContain("answered 401");
    expect(step("graph/PlantedItem").error).toMatch(/127\.0\.0\.1:9/);
    expect(failed.stderr).toContain("asking for orders");
    expect(failed.stderr).toContain("planted API request retried");

    // The same, as text, with stacks, and with pretty logs; then every command that shows what happened.
    await ingest(["materialize", "--wait", "api/customers"]);
    await ingest(["--debug", "materialize", "--wait", "api/orders"]);
    await ingest(["materialize", "--wait", "api/orders"], { LOG_FORMAT: "pretty" });
    for (const json of [["--json"], []]) {
      await ingest([...json, "runs", "show", run.id]);
      await ingest([...json, "runs"]);
      await ingest([...json, "status"]);
      await ingest([...json, "dead-letters", "--all"]);
      await ingest([...json, "lineage", "api/items"]);
      await ingest([...json, "stack", "status"]);
    }
    await ingest(["--debug", "runs", "show", run.id]);
    // The stack's database password, in a URL of a database that is not there.
    const broken = new URL(settings().databaseUrl);
    broken.port = "9";
    const unreachable = await ingest(["--json", "status"], { DATABASE_URL: broken.toString() });
    expect(unreachable.status).not.toBe(0);
    expect(unreachable.stderr).toContain("127.0.0.1:9");

    // The letter the model refused, from the authenticated source, is there.
    const letters = await ingest(["--json", "dead-letters"]);
    expect(JSON.parse(letters.stdout)).toEqual([expect.objectContaining({ sourceKey: "bad id", reason: "invalid" })]);

    // Spans reach Jaeger from the CLI's worker when the stack's Jaeger runs (the suite's setup starts it).
    const scan = await scanForSecrets({
      since: startedAt,
      roots: [project],
      texts: outputs,
      databases: [env.DATABASE_URL!],
    });
    const saved = process.env.INGEST_TEST_OUTPUT_DIR;
    if (saved) {
      for (const [where, text] of outputs) appendFileSync(join(saved, "security-secrets.log"), `$ ${where}\n${text}\n`);
    }
    expect(describeHits(scan)).toEqual([]);
    expect(scan.rows).toBeGreaterThan(0);
    if (runningPid("jaeger") !== undefined) expect(scan.spans).toBeGreaterThan(0);
    recordFigure(
      "planted and generated secrets found in the output of runs that used them",
      scan.hits.length,
      "occurrences",
      "<= 0",
      `${secretsToFind().size} secrets looked for in ${describeScan(scan)}`,
    );
  });

  it("are kept in files only their owner reads: the stack's secrets 0600, their folder 0700", () => {
    const folder = join(stateDir, "secrets");
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    const names = [...secretsToFind().keys()].filter((name) => name.startsWith("stack secret"));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      const file = join(folder, /'(.*)'/.exec(name)![1]!);
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
    }
  });
});
