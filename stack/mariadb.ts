import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mysql from "mysql2/promise";
import { localPorts, settings } from "../resources/settings.ts";
import { startDetached, waitUntilReady } from "./process.ts";
import { ensureSecret } from "./secrets.ts";
import { chownTo, serverHome, type ServerUser, serverUser, writePrivateFile } from "./server-user.ts";
import type { LocalService } from "./service.ts";
import { aptInstall, commandPath } from "./system.ts";
import { freePort, launchThrowaway } from "./throwaway.ts";

/** The stack's database in MariaDB: the bundled CRM's own. */
const database = "crm";

function serverBinaries(): { server: string; installDb: string } | undefined {
  const server = commandPath("mariadbd");
  const installDb = commandPath("mariadb-install-db");
  return server && installDb ? { server, installDb } : undefined;
}

function installServer(): { server: string; installDb: string } {
  if (aptInstall(["mariadb-server"], "mariadb")) {
    const found = serverBinaries();
    if (found) return found;
  }
  throw new Error(
    "MariaDB server binaries (mariadbd, mariadb-install-db) were not found. Install them " +
      "(Debian/Ubuntu: sudo apt-get install mariadb-server; macOS: brew install mariadb) " +
      "or point MARIADB_URL at a MySQL or MariaDB server you already run.",
  );
}

/**
 * The server's socket: in its home, unless that path is longer than a Unix socket's 107 bytes (a deep
 * checkout); then in /tmp, named after the home. MariaDB always opens one; only TCP is used.
 */
function socketPath(home: string): string {
  const inHome = join(home, "mariadbd.sock");
  if (Buffer.byteLength(inHome) <= 100) return inHome;
  return `/tmp/ingest-mariadb-${createHash("sha256").update(home).digest("hex").slice(0, 12)}.sock`;
}

/** `mariadb-install-db` into `<home>/data`: system tables only, root reachable by its Unix socket alone. */
function installDatabase(installDb: string, home: string, user: ServerUser): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chownTo(home, user);
  const result = spawnSync(
    installDb,
    [
      // First, or it is not honoured: the system's /etc/mysql configuration is not ours.
      "--no-defaults",
      `--datadir=${join(home, "data")}`,
      "--auth-root-authentication-method=socket",
      "--skip-test-db",
      "--skip-name-resolve",
    ],
    { ...user, encoding: "utf8" },
  );
  if (result.status !== 0) {
    rmSync(join(home, "data"), { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed:\n${result.stderr || result.stdout}`);
  }
}

const literal = (text: string) => `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/**
 * The statements the server runs as it starts (`--init-file`), before it takes connections: the `ingest`
 * user with the stack's generated password (set again each start, so the secret file is what counts), and
 * the `crm` database. `ingest` may do anything, as the stack's Postgres user may: tests and benchmarks make
 * databases of their own.
 */
function initStatements(password: string): string {
  const users = ["'ingest'@'127.0.0.1'", "'ingest'@'localhost'"];
  return [
    ...users.flatMap((user) => [
      `create user if not exists ${user} identified by ${literal(password)};`,
      `alter user ${user} identified by ${literal(password)};`,
      `grant all privileges on *.* to ${user};`,
    ]),
    `create database if not exists ${database} character set utf8mb4 collate utf8mb4_unicode_ci;`,
    "",
  ].join("\n");
}

/** Whether a MySQL or MariaDB server answers `select 1` at `url` with its credentials. */
export async function mysqlAnswers(url: string): Promise<boolean> {
  let connection: mysql.Connection | undefined;
  try {
    connection = await mysql.createConnection({ uri: url, connectTimeout: 2000 });
    await connection.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await connection?.end().catch(() => {});
  }
}

/** How the stack runs `mariadbd`: on loopback only, its socket and pid file in its home, UTF-8 and UTC. */
function serverArgs(home: string, port: number, initFile: string): string[] {
  return [
    "--no-defaults",
    `--datadir=${join(home, "data")}`,
    "--bind-address=127.0.0.1",
    `--port=${port}`,
    `--socket=${socketPath(home)}`,
    `--pid-file=${join(home, "mariadbd.pid")}`,
    `--init-file=${initFile}`,
    "--skip-name-resolve",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
    "--default-time-zone=+00:00",
    // A source table of a million rows stays in memory, as a production server's working set would.
    "--innodb-buffer-pool-size=256M",
    "--max-connections=200",
  ];
}

/**
 * MariaDB (Debian's `mariadb-server`, installed when missing; its package may not start the system's
 * service): a server of our own with its data in `<state>/mariadb`, on 127.0.0.1 at `INGEST_MARIADB_PORT`
 * (53306), the user `ingest` with the generated secret `mariadb`, and the database `crm`.
 */
export const mariadb: LocalService = {
  name: "mariadb",
  kind: "server",
  external: settings().mariadb.external,
  // The sample CRM's own database: the bundled project reads its deals there.
  sample: true,
  location() {
    const url = new URL(settings().mariadb.url);
    return `mysql://${url.host}${url.pathname}`;
  },
  isReachable: () => mysqlAnswers(settings().mariadb.url),
  async start() {
    const { server, installDb } = serverBinaries() ?? installServer();
    const user = serverUser("mysql");
    const home = serverHome("mariadb", user);
    if (!existsSync(join(home, "data", "mysql"))) installDatabase(installDb, home, user);
    const password = ensureSecret("mariadb");
    const initFile = join(home, "init.sql");
    writePrivateFile(initFile, initStatements(password), user);
    try {
      const pid = startDetached({
        name: "mariadb",
        command: server,
        args: serverArgs(home, localPorts.mariadb, initFile),
        ...user,
      });
      // settings() is read again: its URL carries the secret ensureSecret may just have made.
      await waitUntilReady("mariadb", pid, () => mysqlAnswers(settings().mariadb.url), 120_000);
    } finally {
      // Read once at start-up: the password need not stay on disk beyond the secret file.
      rmSync(initFile, { force: true });
    }
  },
};

/** A MariaDB of a test's or a benchmark's own, from {@link startThrowawayMariadb}. */
export interface ThrowawayMariadb {
  /** `mysql://ingest:<password>@127.0.0.1:<port>/crm`. */
  url: string;
  port: number;
  /** The server's process, to kill it under a reader. */
  pid: number;
  /** Stops the server (if it still runs) and deletes its data. */
  stop(): Promise<void>;
}

/**
 * Starts a fresh MariaDB with the stack's settings on a free port, its data in a temporary folder deleted when
 * it stops (or when this process ends), for a test that must kill a server without disturbing the stack's.
 *
 * @example
 * ```ts
 * const server = await startThrowawayMariadb();
 * try { ... createMysqlPool(server.url) ... process.kill(server.pid, "SIGKILL") ... }
 * finally { await server.stop(); }
 * ```
 */
export async function startThrowawayMariadb(): Promise<ThrowawayMariadb> {
  const { server, installDb } = serverBinaries() ?? installServer();
  const user = serverUser("mysql");
  // In the system's temporary folder, which the server's user can reach wherever the checkout is.
  const home = mkdtempSync(join(tmpdir(), "ingest-mariadb-"));
  chmodSync(home, 0o700);
  installDatabase(installDb, home, user);
  const port = await freePort();
  const password = randomBytes(18).toString("base64url");
  const initFile = join(home, "init.sql");
  writePrivateFile(initFile, initStatements(password), user);
  const url = `mysql://ingest:${password}@127.0.0.1:${port}/${database}`;
  const { pid, stop } = await launchThrowaway({
    what: `a throwaway MariaDB on port ${port}`,
    command: server,
    args: serverArgs(home, port, initFile),
    options: user,
    home,
    logFile: join(home, "server.log"),
    answers: () => mysqlAnswers(url),
  });
  return { url, port, pid, stop };
}
