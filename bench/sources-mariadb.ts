import { spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMysqlPool, type mysql, readMysql } from "../connectors/mariadb/index.ts";
import { settings } from "../resources/settings.ts";
import { type BenchResult, result } from "./report.ts";

/** Rows of the table read (`MARIADB_BENCH_ROWS` makes it smaller for a quick look). */
const rows = Number(process.env.MARIADB_BENCH_ROWS ?? 1_000_000);
/** Timed reads of each side, alternating; the figures are each side's median. */
const rounds = 3;

/** A database of its own in the stack's MariaDB, made afresh, with a pool on it; `drop` ends both. */
export interface ScratchMysqlDatabase {
  /** Its URL, with the stack's user and password: what `MARIADB_URL` gives a worker. */
  url: string;
  pool: mysql.Pool;
  drop(): Promise<void>;
}

/** Makes (or remakes) the database `name` in the stack's MariaDB, for a benchmark's CRM tables or its table to read. */
export async function scratchMysqlDatabase(name: string): Promise<ScratchMysqlDatabase> {
  const admin = createMysqlPool(settings().mariadb.url, { connectionLimit: 1 });
  await admin.query(`drop database if exists ${name}`);
  await admin.query(`create database ${name}`);
  const url = new URL(settings().mariadb.url);
  url.pathname = `/${name}`;
  const pool = createMysqlPool(url.toString());
  return {
    url: url.toString(),
    pool,
    async drop() {
      await pool.end();
      await admin.query(`drop database if exists ${name}`);
      await admin.end();
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

/** The CRM's `deals` table as the generator writes it, a million rows made by the server from its sequence engine. */
const table = `
create table deals (
  deal_id bigint unsigned not null primary key, deal_name varchar(255), stage varchar(32), amount varchar(32),
  currency char(3), close_date varchar(32), company_id bigint unsigned, owner_id bigint unsigned,
  created_at datetime(3) not null, updated_at datetime(3) not null
) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_unicode_ci`;

const fill = `
insert into deals
select 30000000 + seq,
       concat(elt(1 + seq % 5, 'Rollout', 'Renewal', 'Upgrade', 'Pilot', 'Expansion'), ' – Nordwind Logistik ', seq % 9973),
       elt(1 + seq % 7, 'appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin',
           'contractsent', 'closedwon', 'closedlost'),
       concat(seq % 250000 * 100, '.00'),
       elt(1 + seq % 4, 'EUR', 'GBP', 'SEK', 'PLN'),
       date_format(date('2025-01-01') + interval seq % 720 day, '%Y-%m-%d'),
       10000001 + seq % 10000,
       40000001 + seq % 110,
       timestamp('2024-01-01') + interval seq second,
       timestamp('2024-06-01') + interval seq * 7 second
from seq_1_to_${rows}`;

const query = "select * from deals order by deal_id";

/** Ours: every row through `readMysql`, as a staged asset's extract reads it. Rows a second. */
async function readWithOurs(url: string): Promise<number> {
  const pool = createMysqlPool(url, { connectionLimit: 1 });
  try {
    const started = performance.now();
    let n = 0;
    for await (const _ of readMysql(pool, query, [], { batchSize: 5_000 })) n++;
    const seconds = (performance.now() - started) / 1000;
    if (n !== rows) throw new Error(`readMysql read ${n} rows of ${rows}`);
    return n / seconds;
  } finally {
    await pool.end();
  }
}

/** The reference: the `mariadb` client dumping the same query with `--quick` (row by row) to /dev/null. Rows a second. */
async function readWithClient(optionsFile: string): Promise<number> {
  const devNull = openSync("/dev/null", "w");
  try {
    const started = performance.now();
    // --defaults-file first: the password stays out of the command line; nothing of the system's configuration is read.
    const child = spawn("mariadb", [`--defaults-file=${optionsFile}`, "--quick", "-e", query], {
      stdio: ["ignore", devNull, "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk));
    const [code] = await once(child, "exit");
    if (code !== 0) throw new Error(`mariadb exited with ${code}: ${stderr}`);
    return rows / ((performance.now() - started) / 1000);
  } finally {
    closeSync(devNull);
  }
}

/**
 * MariaDB extraction: `readMysql` against the `mariadb` command-line client reading the same million-row
 * table (the CRM's deals: ten columns, keys, text, typed amounts and dates, DATETIMEs) in the same order,
 * side by side in one run, after a read of each that warms the server's buffer pool. Target ≥ 0.7.
 */
export async function mariadbBench(): Promise<BenchResult[]> {
  const database = await scratchMysqlDatabase(`ingest_bench_${process.pid}`);
  const dir = mkdtempSync(join(tmpdir(), "ingest-bench-mariadb-"));
  const optionsFile = join(dir, "client.cnf");
  const { hostname, port, username, password, pathname } = new URL(database.url);
  writeFileSync(
    optionsFile,
    `[client]\nhost=${hostname}\nport=${port}\nuser=${decodeURIComponent(username)}\npassword=${
      decodeURIComponent(password)
    }\ndatabase=${pathname.slice(1)}\n`,
    { mode: 0o600 },
  );
  try {
    await database.pool.query(table);
    await database.pool.query(fill);
    await readWithClient(optionsFile);
    await readWithOurs(database.url);
    const ours: number[] = [];
    const reference: number[] = [];
    // Which side goes first alternates between runs (BENCH_RUN_INDEX), and within a run each round.
    const first = Number(process.env.BENCH_RUN_INDEX ?? 1) % 2;
    for (let round = 0; round < rounds; round++) {
      if ((round + first) % 2 === 0) {
        ours.push(await readWithOurs(database.url));
        reference.push(await readWithClient(optionsFile));
      } else {
        reference.push(await readWithClient(optionsFile));
        ours.push(await readWithOurs(database.url));
      }
    }
    return [
      result(
        `MariaDB extraction, ${rows.toLocaleString("en")} rows (readMysql vs mariadb --quick > /dev/null)`,
        median(ours),
        median(reference),
        "rows/s",
        ">= 0.7",
        `the CRM's deals table (10 columns), "${query}"; readMysql with batchSize 5,000 counting rows in a for await loop, against the mariadb client (--quick, output to /dev/null); median of ${rounds} alternating reads each after one warm-up read; ours ${
          ours.map((x) => Math.round(x)).join(", ")
        }, client ${reference.map((x) => Math.round(x)).join(", ")} rows/s`,
      ),
    ];
  } finally {
    await database.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
