import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join, relative } from "node:path";
import pg from "pg";
import { packageRoot, settings, stateDir } from "../resources/settings.ts";

/**
 * The secrets scan `npm test` ends with (test/setup/stack.ts) and the security tests run on what they
 * made: every generated secret of the stack and the values the secrets test plants (an API key and a bearer
 * token passed to a source) are looked for in every log, trace, CLI output and database row a run can
 * leave them in. A hit names where it was and which secret, never the secret itself.
 */

/** What the secrets test passes to a source, from the environment, and no output may ever hold. */
export const planted = {
  apiKey: "planted-api-key-5c1e0b7d93a24f68b0e1",
  authorization: "planted-bearer-token-a47d2e9c18f3406b",
} as const;

/** Where a secret was found, and which one (by name). */
export interface SecretHit {
  where: string;
  secret: string;
}

/** What a scan looked at, and what it found. */
export interface SecretScan {
  hits: SecretHit[];
  /** Secret files or folders readable by others than their owner. */
  looseModes: string[];
  files: number;
  bytes: number;
  tables: number;
  rows: number;
  spans: number;
  texts: number;
}

/** The values looked for, by name: each secret file of the stack's state folder, and the planted values. */
export function secretsToFind(): Map<string, string> {
  const secrets = new Map<string, string>(Object.entries(planted).map(([name, value]) => [`planted ${name}`, value]));
  const folder = join(stateDir, "secrets");
  if (existsSync(folder)) {
    for (const name of readdirSync(folder)) {
      const value = readFileSync(join(folder, name), "utf8").trim();
      if (value.length >= 8) secrets.set(`stack secret '${name}'`, value);
    }
  }
  return secrets;
}

/** The hits of each secret in `text`, as found at `where`. */
export function hitsIn(where: string, text: string, secrets: Map<string, string>): SecretHit[] {
  const hits: SecretHit[] = [];
  for (const [secret, value] of secrets) {
    let from = 0;
    for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, from)) {
      hits.push({ where, secret });
      from = at + value.length;
    }
  }
  return hits;
}

/** Data folders of the stack's servers: binary stores, no logs. */
const dataFolders = new Set(["data", "mnesia", "postgres", "chroma", "sources", "node_modules", ".git", "dist"]);
/** What a log, a captured output or a server's configuration is kept as. */
const textExtensions = new Set([
  ".log",
  ".txt",
  ".out",
  ".err",
  ".json",
  ".jsonl",
  ".yaml",
  ".yml",
  ".conf",
  ".properties",
  ".xml",
  ".ini",
  ".cnf",
  ".env",
  ".toml",
]);

/**
 * The log and text files under `root`, symbolic links not followed (a project's node_modules links to this
 * repository); a secret file is not read but its mode checked.
 */
function* logFiles(root: string, looseModes: string[]): Generator<string> {
  const walk = function* (dir: string): Generator<string> {
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return; // another user's, or gone while we looked
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      let stat;
      try {
        stat = lstatSync(path);
      } catch {
        continue;
      }
      if (stat.isSymbolicLink()) continue;
      if (stat.isDirectory()) {
        if (entry === "secrets") {
          // The stack's own folder is private too; a test's may be wider, as long as its files are not.
          const own = path === join(stateDir, "secrets");
          if (own && (stat.mode & 0o077) !== 0) looseModes.push(`${path} (${(stat.mode & 0o777).toString(8)})`);
          for (const file of readdirSync(path)) {
            const mode = statSync(join(path, file)).mode & 0o777;
            if ((mode & 0o077) !== 0) looseModes.push(`${join(path, file)} (${mode.toString(8)})`);
          }
          continue;
        }
        if (!dataFolders.has(entry)) yield* walk(path);
        continue;
      }
      if (!stat.isFile()) continue;
      if (entry === "password" || entry === "initial-password") {
        if ((stat.mode & 0o077) !== 0) looseModes.push(`${path} (${(stat.mode & 0o777).toString(8)})`);
        continue;
      }
      const inLogFolder = /(^|\/)(logs?|output)(\/|$)/.test(relative(root, dir));
      if (inLogFolder || textExtensions.has(extname(entry))) yield path;
    }
  };
  yield* walk(root);
}

/** The folders a run of the tests leaves logs in: the stack's state folder, test temp folders, test/output. */
export function logRoots(): string[] {
  const temp = readdirSync(tmpdir()).filter((name) => name.startsWith("ingest-")).map((name) => join(tmpdir(), name));
  return [stateDir, ...temp, join(packageRoot, "test", "output")].filter((root) => existsSync(root));
}

/** Files larger than this are read in part: no log of a test run comes near it. */
const largestFile = 256 * 1024 * 1024;

/** Every database of the server `url` is on that holds the framework's schemas, with their URLs. */
async function frameworkDatabases(url: string): Promise<string[]> {
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const { rows } = await admin.query<{ datname: string }>(
      "select datname from pg_database where not datistemplate and datallowconn order by datname",
    );
    return rows.map((r) => {
      const u = new URL(url);
      u.pathname = `/${r.datname}`;
      return u.toString();
    });
  } finally {
    await admin.end();
  }
}

/** Rows of the framework's schemas (runs, steps, materialisations, dead letters, jobs, staging…) holding a secret. */
async function scanDatabase(url: string, secrets: Map<string, string>, scan: SecretScan): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on("error", () => {});
  const names = [...secrets.keys()];
  try {
    const { rows: tables } = await pool.query<{ schema: string; name: string }>(
      `select table_schema as schema, table_name as name from information_schema.tables
       where table_type = 'BASE TABLE' and table_schema in ('ingest', 'graphile_worker', 'staging')
       order by 1, 2`,
    );
    const database = new URL(url).pathname.slice(1);
    for (const { schema, name } of tables) {
      const table = `"${schema}"."${name}"`;
      const { rows } = await pool.query<{ i: string; n: number }>(
        `select u.i, count(*)::int as n from ${table} t cross join unnest($1::text[]) with ordinality as u(s, i)
         where strpos(t::text, u.s) > 0 group by u.i`,
        [[...secrets.values()]],
      );
      for (const { i, n } of rows) {
        for (let k = 0; k < n; k++) {
          scan.hits.push({ where: `${database}: ${schema}.${name}`, secret: names[Number(i) - 1]! });
        }
      }
      scan.tables += 1;
      scan.rows += (await pool.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n;
    }
  } catch (error) {
    // A database dropped while we looked, or one this role may not read: nothing of ours is in it.
    if (!["3D000", "42501", "42P01"].includes((error as { code?: string }).code ?? "")) throw error;
  } finally {
    await pool.end();
  }
}

/** Every span Jaeger holds of traces that started since `since`, in windows of ten minutes. */
async function scanJaeger(since: Date, secrets: Map<string, string>, scan: SecretScan): Promise<void> {
  const base = settings().jaeger.queryUrl;
  const services = await fetch(`${base}/api/services`, { signal: AbortSignal.timeout(5_000) })
    .then(async (r) => (r.ok ? ((await r.json()) as { data: string[] | null }).data ?? [] : []))
    .catch(() => undefined);
  if (services === undefined) return; // no Jaeger runs: the processes exported nowhere
  const window = 10 * 60_000;
  for (const service of services) {
    for (let start = since.getTime() - 60_000; start < Date.now(); start += window) {
      const query = new URLSearchParams({
        service,
        start: String(start * 1000),
        end: String((start + window) * 1000),
        limit: "100000",
      });
      const response = await fetch(`${base}/api/traces?${query}`);
      const text = await response.text();
      if (!response.ok) {
        throw new Error(`Jaeger answered ${response.status} for ${service}'s traces: ${text.slice(0, 200)}`);
      }
      const { data } = JSON.parse(text) as { data: { traceID: string; spans: unknown[] }[] | null };
      for (const trace of data ?? []) {
        scan.spans += trace.spans.length;
        scan.hits.push(...hitsIn(`Jaeger: trace ${trace.traceID} (${service})`, JSON.stringify(trace), secrets));
      }
    }
  }
}

/**
 * Looks for every secret (or `secrets`) in the log and text files under `roots`, in every row of the
 * framework's schemas in every database of the stack's Postgres, in Jaeger's spans since `since`, and in
 * `texts` (captured CLI output, by where it came from).
 */
export async function scanForSecrets(options: {
  since: Date;
  roots?: string[];
  texts?: [where: string, text: string][];
  databases?: string[];
  secrets?: Map<string, string>;
}): Promise<SecretScan> {
  const secrets = options.secrets ?? secretsToFind();
  const scan: SecretScan = { hits: [], looseModes: [], files: 0, bytes: 0, tables: 0, rows: 0, spans: 0, texts: 0 };
  for (const root of options.roots ?? logRoots()) {
    for (const file of logFiles(root, scan.looseModes)) {
      let text: string;
      try {
        const size = statSync(file).size;
        text = size > largestFile
          ? readFileSync(file).subarray(0, largestFile).toString("utf8")
          : readFileSync(file, "utf8");
      } catch {
        continue; // gone while we looked
      }
      scan.files += 1;
      scan.bytes += text.length;
      scan.hits.push(...hitsIn(file, text, secrets));
    }
  }
  for (const [where, text] of options.texts ?? []) {
    scan.texts += 1;
    scan.hits.push(...hitsIn(where, text, secrets));
  }
  for (const url of options.databases ?? await frameworkDatabases(settings().databaseUrl)) {
    await scanDatabase(url, secrets, scan);
  }
  await scanJaeger(options.since, secrets, scan);
  return scan;
}

/** A scan's findings as lines: where, and which secret. */
export function describeHits(scan: SecretScan): string[] {
  const counted = new Map<string, number>();
  for (const hit of scan.hits) {
    counted.set(`${hit.where}: ${hit.secret}`, (counted.get(`${hit.where}: ${hit.secret}`) ?? 0) + 1);
  }
  return [
    ...[...counted].map(([line, n]) => `${line}${n > 1 ? ` (${n} times)` : ""}`),
    ...scan.looseModes.map((path) =>
      `${path}: a secret readable by others than its owner (want 0600, 0700 for a folder)`
    ),
  ];
}

/** What a scan covered, in words: the figure's note. */
export function describeScan(scan: SecretScan): string {
  const files = `${scan.files} files (${
    (scan.bytes / 1e6).toFixed(1)
  } MB) of logs, captured output and server configuration`;
  const texts = scan.texts > 0 ? `, ${scan.texts} CLI outputs` : "";
  return `${files}${texts}, ${scan.rows} rows of ${scan.tables} tables, ${scan.spans} Jaeger spans`;
}
