import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { localPorts, settings } from "../resources/settings.ts";
import { startDetached, waitUntilReady } from "./process.ts";
import { ensureSecret } from "./secrets.ts";
import { serverHome, type ServerUser, serverUser } from "./server-user.ts";
import type { LocalService } from "./service.ts";
import { aptInstall } from "./system.ts";

/** Debian keeps each major version's server binaries in /usr/lib/postgresql/<major>/bin; take the newest. */
function serverBinDir(): string | undefined {
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const majors = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, "bin", "initdb")))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0]) return join(debian, majors[0], "bin");
  }
  const onPath = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" }).stdout.trim();
  return onPath ? join(onPath, "..") : undefined;
}

function installServer(): string {
  if (aptInstall(["postgresql"], "postgres")) {
    const bin = serverBinDir();
    if (bin) return bin;
  }
  throw new Error(
    "PostgreSQL server binaries (initdb, postgres) were not found. Install them " +
      "(Debian/Ubuntu: sudo apt-get install postgresql; macOS: brew install postgresql@17) " +
      "or point DATABASE_URL at a PostgreSQL server you already run.",
  );
}

function initCluster(bin: string, home: string, user: ServerUser): void {
  const password = ensureSecret("postgres");
  mkdirSync(home, { recursive: true, mode: 0o700 });
  if (user.uid !== undefined) chownSync(home, user.uid, user.gid!);
  const pwfile = join(home, "initial-password");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user.uid !== undefined) chownSync(pwfile, user.uid, user.gid!);
  try {
    const result = spawnSync(
      join(bin, "initdb"),
      [
        "-D",
        join(home, "data"),
        "-U",
        "ingest",
        `--pwfile=${pwfile}`,
        "--auth=scram-sha-256",
        "-E",
        "UTF8",
        "--locale=C",
      ],
      { ...user, encoding: "utf8" },
    );
    if (result.status !== 0) throw new Error(`initdb failed:\n${result.stderr || result.stdout}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates the framework's database and the sample shop database in the private cluster. */
async function ensureDatabases(adminUrl: string, names: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const name of names) {
      const found = await client.query("select 1 from pg_database where datname = $1", [name]);
      if (found.rowCount === 0) await client.query(`create database ${pg.escapeIdentifier(name)}`);
    }
  } finally {
    await client.end();
  }
}

export const postgres: LocalService = {
  name: "postgres",
  kind: "server",
  external: settings().external.postgres,
  location() {
    const url = new URL(settings().databaseUrl);
    return `postgres://${url.host}${url.pathname}`;
  },
  isReachable: () => canConnect(settings().databaseUrl),
  async start() {
    const bin = serverBinDir() ?? installServer();
    const user = serverUser("postgres");
    const home = serverHome("postgres", user);
    if (!existsSync(join(home, "data", "PG_VERSION"))) initCluster(bin, home, user);
    const pid = startDetached({
      name: "postgres",
      command: join(bin, "postgres"),
      args: [
        "-D",
        join(home, "data"),
        "-p",
        String(localPorts.postgres),
        "-c",
        "listen_addresses=127.0.0.1",
        // No Unix socket: its path length limit breaks in deep checkouts, and TCP is all we use.
        "-c",
        "unix_socket_directories=",
        "-c",
        "max_connections=200",
        "-c",
        "shared_buffers=256MB",
      ],
      ...user,
      // SIGINT is Postgres' "fast" shutdown; SIGTERM would wait for every client to disconnect.
      stopSignal: "SIGINT",
    });
    const admin = settings().databaseUrl.replace(/\/[^/]*$/, "/postgres");
    await waitUntilReady("postgres", pid, () => canConnect(admin), 60_000);
    await ensureDatabases(admin, ["ingest", "shop"]);
  },
};
