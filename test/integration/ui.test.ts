import { type ChildProcess, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNeo4j } from "../../connectors/neo4j/index.ts";
import { createPool, type pg } from "../../resources/postgres.ts";
import { packageRoot, settings, stateDir } from "../../resources/settings.ts";
import { freePort } from "../../stack/throwaway.ts";
import { ensureWebBuilt } from "../../ui/web-build.ts";
import { openBrowser } from "../browser.ts";
import { exitOf, startUntil } from "../processes.ts";

/**
 * The web UI as an operator uses it, in Debian's Chromium: a project of its own (a CSV staged, loaded
 * as (:UiBook) nodes, a report on them) against a scratch database, `ingest ui` and `ingest worker`
 * in processes of their own. Screenshots of the main pages go to test/output/ui/.
 */
const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "bin", "ingest.js");
const project = mkdtempSync(join(tmpdir(), "ingest-ui-project-"));
const shots = join(packageRoot, "test", "output", "ui");
const database = "ingest_ui_test";
const label = "UiBook";
let admin: pg.Pool;
let env: NodeJS.ProcessEnv;
let url: string;
let browser: BrowserContext & AsyncDisposable;
let page: Page;
const children: ChildProcess[] = [];

const books = (title: string) => `isbn,title\n1,${title}\n2,Emma\nx-3,Nameless\n4,Ulysses\n`;

beforeAll(async () => {
  await ensureWebBuilt();
  mkdirSync(shots, { recursive: true });
  mkdirSync(join(project, "node_modules"));
  symlinkSync(packageRoot, join(project, "node_modules", "ingest-graph"));
  symlinkSync(join(packageRoot, "node_modules", "zod"), join(project, "node_modules", "zod"));
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "ui-project", type: "module", private: true }));
  writeFileSync(join(project, "books.csv"), books("Dune"));
  writeFileSync(
    join(project, "definitions.ts"),
    `import { existsSync } from "node:fs";
import { defineAsset, defineDefinitions, defineNodeAsset, defineStagedAsset, neo4jResource, readCsv, stagingResource } from "ingest-graph";
import { z } from "zod";

// An ISBN is digits, until the file 'lenient' exists: the fix a dead letter is replayed after.
const Book = z.object({
  isbn: z.string().refine((isbn) => /^\\d+$/.test(isbn) || existsSync(${
      JSON.stringify(join(project, "lenient"))
    }), "not an ISBN"),
  title: z.string().min(1),
});
const books = defineStagedAsset({
  key: "shop/books", table: "ui_books", source: "books.csv", codeVersion: "1", model: Book,
  sourceKey: (b) => b.isbn, rawKey: (row) => row.isbn,
  extract: () => readCsv(${JSON.stringify(join(project, "books.csv"))}),
});
const bookNodes = defineNodeAsset({
  key: "graph/${label}", codeVersion: "1", label: "${label}", keyProperty: "isbn", from: books,
  properties: (b) => ({ isbn: b.isbn, title: b.title }),
});
const report = defineAsset({
  key: "reports/books", deps: ["graph/${label}"], codeVersion: "1",
  materialize: async () => ({ counts: { books: 3 } }),
});
export default defineDefinitions({
  assets: [books, bookNodes, report],
  resources: { staging: stagingResource(), neo4j: neo4jResource() },
});
`,
  );
  admin = createPool(settings().databaseUrl, 1);
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.query(`create database ${database}`);
  const databaseUrl = new URL(settings().databaseUrl);
  databaseUrl.pathname = `/${database}`;
  // The stack's state folder: its Neo4j's password, its Jaeger.
  env = { ...process.env, DATABASE_URL: databaseUrl.toString(), LOG_LEVEL: "info", INGEST_STATE_DIR: stateDir };
  delete env.INGEST_DEFINITIONS;
  delete env.INGEST_UI_TOKEN;
  const neo4j = connectNeo4j();
  await neo4j.executeQuery(`MATCH (n:${label}) DETACH DELETE n`);
  await neo4j.close();

  const port = await freePort();
  const ui = await startUntil(`exec ${node} ${cli} ui --port ${port}`, {
    cwd: project,
    env,
    ready: /ingest ui listening on \S+/,
  });
  url = /ingest ui listening on (\S+)/.exec(ui.output())![1]!;
  children.push(ui.child);
  const worker = await startUntil(`exec ${node} ${cli} worker --concurrency 2`, {
    cwd: project,
    env,
    ready: /worker started/,
  });
  children.push(worker.child);
  browser = await openBrowser();
  page = await browser.newPage();
}, 300_000);

afterAll(async () => {
  await browser?.[Symbol.asyncDispose]();
  for (const child of children) {
    child.kill("SIGTERM");
    expect(await exitOf(child)).toBe(0);
  }
  const neo4j = connectNeo4j();
  await neo4j.executeQuery(`MATCH (n:${label}) DETACH DELETE n`);
  await neo4j.close();
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
  rmSync(project, { recursive: true, force: true });
});

const ingest = (...args: string[]) => spawnSync(node, [cli, ...args], { cwd: project, env, encoding: "utf8" });
const asset = (key: string) => page.locator(`svg.graph [data-key="${key}"]`);
const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`) });

describe("the web UI", () => {
  it("shows the graph after a materialisation, each asset in its state", async () => {
    await page.goto(url);
    await expect.poll(() => asset("shop/books").getAttribute("data-state")).toBe("never");
    const done = ingest("materialize", "--wait");
    expect(done.status, done.stderr).toBe(0);
    // No reload: the change feed brings the new states.
    for (const key of ["shop/books", `graph/${label}`, "reports/books"]) {
      await expect.poll(() => asset(key).getAttribute("data-state"), { timeout: 20_000 }).toBe("fresh");
    }
    await expect.poll(() => page.locator(".feed").textContent()).toContain("live");
    await shot("graph");
  });

  it("turns an asset stale when its source changed, and says why", async () => {
    writeFileSync(join(project, "books.csv"), books("Dune Messiah"));
    await asset("shop/books").click();
    await page.locator(".panel button", { hasText: "Materialise" }).click();
    await expect.poll(() => asset(`graph/${label}`).getAttribute("data-state"), { timeout: 30_000 }).toBe("stale");
    await asset(`graph/${label}`).click();
    await expect(page.locator(".panel .why").textContent()).resolves.toContain("upstream shop/books has new data");
    expect(await asset("reports/books").getAttribute("data-state")).toBe("fresh");
    await shot("graph-stale");
  });

  it("materialises what is stale and goes green as it happens", async () => {
    await page.locator(".toolbar button", { hasText: "Materialise stale" }).click();
    await expect(page.locator(".notice").textContent()).resolves.toMatch(/run [0-9a-f]{8} requested/);
    // Queued, running, then fresh, without a reload.
    const seen = new Set<string>();
    await expect.poll(async () => {
      const state = await asset(`graph/${label}`).getAttribute("data-state");
      seen.add(state!);
      return state;
    }, { timeout: 30_000, interval: 50 }).toBe("fresh");
    await expect.poll(() => asset("reports/books").getAttribute("data-state"), { timeout: 30_000 }).toBe("fresh");
    expect(seen.size, [...seen].join(", ")).toBeGreaterThan(1);
  });

  it("filters the graph by a selection, parsed by the server", async () => {
    await page.locator("input.filter").fill("shop/books+1");
    await expect.poll(() => page.locator("svg.graph .asset.dim").count()).toBe(1);
    expect(await page.locator(".toolbar button.primary").first().textContent()).toContain("(2)");
    await page.locator("input.filter").fill("shop/bokos");
    await expect(page.locator(".filter-error").textContent()).resolves.toContain("did you mean 'shop/books'");
    await page.locator("input.filter").fill("");
  });

  it("opens a run: its timeline, its steps, its trace", async () => {
    await page.goto(`${url}/#/runs`);
    await page.locator("table.runs tbody tr").first().locator("a").first().click();
    await expect(page.locator(".run-page h1 .chip").textContent()).resolves.toBe("succeeded");
    await expect.poll(() => page.locator(".timeline .lane").count()).toBe(2);
    expect(await page.locator(".timeline .lane .bar.try-succeeded").count()).toBe(2);
    expect(await page.locator("table.steps").textContent()).toContain(`graph/${label}`);
    const settings = await (await fetch(`${url}/api/settings`)).json() as { addresses: { jaeger: string | null } };
    if (settings.addresses.jaeger) {
      await expect.poll(async () => {
        const retry = page.locator(".waterfall").count();
        if (await retry === 0) await page.locator("button", { hasText: "Try again" }).click().catch(() => {});
        return Number(await page.locator(".waterfall").getAttribute("data-spans", { timeout: 1_000 }).catch(() => "0"));
      }, { timeout: 30_000, interval: 2_000 }).toBeGreaterThan(2);
    }
    await shot("run");
  });

  it("opens an asset's page: materialisations, consumed versions, lineage both ways", async () => {
    await page.goto(`${url}/#/asset/graph/${label}`);
    await expect.poll(() => page.locator("table.materializations tbody tr").count()).toBe(2);
    const text = await page.locator(".asset-page").textContent();
    expect(text).toContain("shop/books@v");
    expect(text).toContain("Downstream: what read it");
    expect(await page.locator(".asset-page ul.tree a", { hasText: "reports/books" }).count()).toBeGreaterThan(0);
    await shot("asset");
  });

  it("traces a node back to its source record", async () => {
    await page.goto(`${url}/#/lineage`);
    await page.locator("input[aria-label='node, document or asset']").fill(`${label}:1`);
    await page.locator("button", { hasText: "Trace" }).click();
    await expect(page.locator(".record").textContent()).resolves.toContain("books.csv");
    expect(await page.locator(".record").getAttribute("data-record")).toBe("1");
    expect(await page.locator("ul.tree").first().textContent()).toContain("shop/books");
    await shot("lineage");
  });

  it("replays a dead letter once the model is fixed", async () => {
    await page.goto(`${url}/#/dead-letters`);
    await expect.poll(() => page.locator("table.summary").textContent()).toContain("invalid");
    await expect(page.locator(".letter .issues").first().textContent()).resolves.toContain("not an ISBN");
    await shot("dead-letters");
    writeFileSync(join(project, "lenient"), "");
    await page.locator("button", { hasText: "Replay" }).click();
    await expect(page.locator(".notice").textContent()).resolves.toContain("1 replayed and staged, 0 still failing");
    await expect.poll(() => page.locator("table.summary").textContent()).toContain("no open dead letters");
  });

  it("shows the automation page: workers and their liveness", async () => {
    await page.goto(`${url}/#/automation`);
    await expect(page.locator("table.workers").textContent()).resolves.toContain("live");
    await shot("automation");
  });

  it("answers with what the CLI's --json prints: one query layer", async () => {
    // deno-lint-ignore no-explicit-any -- JSON compared as it comes
    const api = async (path: string): Promise<any> => await (await fetch(`${url}/api${path}`)).json();
    const cli = (...args: string[]) => {
      const done = ingest("--json", ...args);
      expect(done.status, done.stderr).toBe(0);
      return JSON.parse(done.stdout);
    };
    expect(await api("/status")).toEqual(cli("status"));
    expect(await api("/assets")).toEqual(cli("assets"));
    expect(await api(`/runs?asset=graph/${label}&limit=5`)).toEqual(
      cli("runs", "-n", "5", "--asset", `graph/${label}`),
    );
    const [latest] = cli("runs", "-n", "1") as { id: string }[];
    const { progress, ...shown } = await api(`/runs/${latest!.id}`);
    expect(progress).toEqual([]);
    expect(shown).toEqual(cli("runs", "show", latest!.id));
    expect(await api("/dead-letters/summary")).toEqual(cli("dead-letters", "--summary"));
    expect(await api(`/dead-letters?status=all&limit=50`)).toEqual(cli("dead-letters", "--all"));
    expect(await api(`/lineage?node=${label}:1`)).toEqual(cli("lineage", "--node", `${label}:1`));
    expect(await api("/ticks?limit=20")).toEqual(cli("ticks"));
    expect(await api("/alerts")).toEqual(cli("alerts"));
  });

  it("refuses a cross-origin request, or one without an Origin, even on loopback", async () => {
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/api/runs`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ selection: "reports/books" }),
      });
    expect((await post({ origin: "http://evil.example" })).status).toBe(403);
    expect((await post({})).status).toBe(403);
    expect((await post({ origin: url })).status).toBe(200);
    // A page of another site whose name resolves to 127.0.0.1 (DNS rebinding) reads nothing.
    const rebound = spawnSync("curl", [
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "-H",
      "Host: evil.example",
      `${url}/api/status`,
    ], {
      encoding: "utf8",
    });
    if (rebound.status === 0) expect(rebound.stdout).toBe("403");
    // And nothing of the settings is a secret: addresses without passwords.
    const body = await (await fetch(`${url}/api/settings`)).text();
    const password = new URL(settings().databaseUrl).password;
    if (password) expect(body).not.toContain(decodeURIComponent(password));
  });

  it("needs a token to bind beyond loopback, and then on every request", async () => {
    const refused = spawnSync(node, [cli, "ui", "--host", "0.0.0.0", "--port", "0"], {
      cwd: project,
      env,
      encoding: "utf8",
    });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("set INGEST_UI_TOKEN");
    const token = "a-token-long-enough-for-the-test";
    const port = await freePort();
    const ui = await startUntil(`exec ${node} ${cli} ui --host 0.0.0.0 --port ${port}`, {
      cwd: project,
      env: { ...env, INGEST_UI_TOKEN: token },
      ready: /ingest ui listening/,
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/api/status`)).status).toBe(401);
      const cancel = (headers: Record<string, string>) =>
        fetch(`${base}/api/runs/nothing/cancel`, { method: "POST", headers: { origin: base, ...headers } });
      expect((await cancel({})).status).toBe(401);
      expect((await cancel({ authorization: "Bearer not-the-token-at-all" })).status).toBe(401);
      expect((await fetch(`${base}/api/status`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
      // A browser logs in once; the cookie is HttpOnly and SameSite=Strict, and holds no token.
      const other = await browser.newPage();
      await other.goto(base);
      expect(other.url()).toBe(`${base}/login`);
      await other.locator("input[name=token]").fill(token);
      await other.locator("button[type=submit]").click();
      await expect.poll(() => other.locator("svg.graph [data-key='shop/books']").count()).toBe(1);
      const [cookie] = await browser.cookies(base);
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });
      expect(cookie!.value).not.toContain(token);
      await other.close();
    } finally {
      ui.child.kill("SIGTERM");
      expect(await exitOf(ui.child)).toBe(0);
    }
  });
});
