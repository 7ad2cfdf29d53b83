import type { Pool, PoolConnection } from "mysql2/promise";
import { badReasonOf, type Entity } from "../defects.ts";
import { ids } from "../links.ts";
import { recordStream, streamTag, weighted } from "../random.ts";
import { type EntityReport, Tally } from "../report.ts";
import type { World } from "../world.ts";
import { company, companyObject } from "./companies.ts";
import { contact, contactObject } from "./contacts.ts";
import { deal, dealObject } from "./deals.ts";

// The CRM's own database holds the records its API serves, as an older application wrote them: keys as
// integers, system times as DATETIME(3) in UTC, amounts and close dates as the text people typed.
const schema = [
  "drop table if exists deals, contacts, companies",
  `create table companies (
    company_id bigint unsigned not null primary key, name varchar(255), domain varchar(255), industry varchar(64),
    country varchar(64), city varchar(128), created_at datetime(3) not null, updated_at datetime(3) not null
  ) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_unicode_ci`,
  `create table contacts (
    contact_id bigint unsigned not null primary key, email varchar(255), first_name varchar(128),
    last_name varchar(128), phone varchar(64), company_id bigint unsigned, job_title varchar(128),
    created_at datetime(3) not null, updated_at datetime(3) not null
  ) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_unicode_ci`,
  `create table deals (
    deal_id bigint unsigned not null primary key, deal_name varchar(255), stage varchar(32), amount varchar(32),
    currency char(3), close_date varchar(32), company_id bigint unsigned, owner_id bigint unsigned,
    created_at datetime(3) not null, updated_at datetime(3) not null
  ) engine = InnoDB default charset = utf8mb4 collate = utf8mb4_unicode_ci`,
];

const COMPANY_ROW = streamTag("crm.db.companies.row");
const DEAL_ROW = streamTag("crm.db.deals.row");

type Cell = string | number | null;

/** `2025-03-01 13:00:00.123`: a DATETIME(3) in UTC, as MariaDB prints it. */
export function mysqlDateTime(ms: number): string {
  return new Date(Math.floor(ms)).toISOString().replace("T", " ").replace("Z", "");
}

/** A zero date: what MariaDB (without NO_ZERO_DATE) keeps when an old import had no date it could read. */
const zeroDateTime = "0000-00-00 00:00:00";

/** A close date as people typed it in the CRM's form: `2025-03-01`, `2025-03-01 00:00:00` or `01.03.2025`. */
function typedDate(random: () => number, ms: number): string {
  const iso = new Date(ms).toISOString();
  const [year, month, day] = [iso.slice(0, 4), iso.slice(5, 7), iso.slice(8, 10)];
  return weighted(
    random,
    [[`${year}-${month}-${day}`, 70], [`${year}-${month}-${day} 00:00:00`, 20], [
      `${day}.${month}.${year}`,
      10,
    ]] as const,
  );
}

/** An amount as typed: `12500`, `12500.00`, `12500,00` (a decimal comma) or with stray spaces. */
function typedAmount(random: () => number, amount: number): string {
  return weighted(
    random,
    [[`${amount}`, 60], [`${amount}.00`, 20], [`${amount},00`, 12], [` ${amount} `, 8]] as const,
  );
}

/** `companies`: a missing name is NULL, an update time no one could read a zero date; the country sometimes a name. */
export function companyRow(world: World, k: number): Cell[] {
  const c = company(world, k);
  const { properties } = companyObject(world, k);
  const random = recordStream(world.seed, COMPANY_ROW, k);
  const country = weighted(
    random,
    [[c.country.code, 85], [c.country.code.toLowerCase(), 8], [c.country.name, 7]] as const,
  );
  const updatedAt = badReasonOf("companies", k) === "unparseable_date" ? zeroDateTime : mysqlDateTime(c.updatedAt);
  return [
    Number(c.id),
    properties.name ?? null,
    c.domain,
    c.industry,
    country,
    c.city,
    mysqlDateTime(c.createdAt),
    updatedAt,
  ];
}

/** `contacts`: the API's contact, its bad email included, with the company as an integer key. */
export function contactRow(world: World, j: number): Cell[] {
  const c = contact(world, j);
  const { properties } = contactObject(world, j);
  return [
    Number(c.id),
    properties.email ?? null,
    c.firstName,
    c.lastName,
    c.phone,
    Number(ids.company(c.companyIndex)),
    c.jobTitle,
    mysqlDateTime(c.createdAt),
    mysqlDateTime(c.updatedAt),
  ];
}

/** `deals`: amounts and close dates typed, currencies sometimes in lower case; the API's bad values as they are. */
export function dealRow(world: World, d: number): Cell[] {
  const record = deal(world, d);
  const { properties } = dealObject(world, d);
  const random = recordStream(world.seed, DEAL_ROW, d);
  const bad = badReasonOf("deals", d);
  const amount = bad === "non_numeric_price" ? properties.amount : typedAmount(random, record.amount);
  const currency = bad === "unknown_currency"
    ? properties.currency
    : weighted(random, [[record.currency, 90], [record.currency.toLowerCase(), 10]] as const);
  const closeDate = bad === "unparseable_date" ? properties.closedate : typedDate(random, record.closeDate);
  return [
    Number(record.id),
    record.name,
    record.stage,
    amount ?? null,
    currency ?? null,
    closeDate ?? null,
    Number(ids.company(record.companyIndex)),
    Number(ids.owner(record.ownerIndex)),
    mysqlDateTime(record.createdAt),
    mysqlDateTime(record.updatedAt),
  ];
}

const tables = [
  {
    entity: "companies",
    columns: ["company_id", "name", "domain", "industry", "country", "city", "created_at", "updated_at"],
    rowOf: companyRow,
  },
  {
    entity: "contacts",
    columns: [
      "contact_id",
      "email",
      "first_name",
      "last_name",
      "phone",
      "company_id",
      "job_title",
      "created_at",
      "updated_at",
    ],
    rowOf: contactRow,
  },
  {
    entity: "deals",
    columns: [
      "deal_id",
      "deal_name",
      "stage",
      "amount",
      "currency",
      "close_date",
      "company_id",
      "owner_id",
      "created_at",
      "updated_at",
    ],
    rowOf: dealRow,
  },
] as const satisfies readonly { entity: Entity; columns: readonly string[]; rowOf: (w: World, i: number) => Cell[] }[];

/** Rows a multi-row insert carries: a few hundred kilobytes, far below MariaDB's 16 MiB packet. */
const BATCH = 2_000;

async function fill(
  connection: PoolConnection,
  world: World,
  { entity, columns, rowOf }: (typeof tables)[number],
): Promise<EntityReport> {
  const tally = new Tally(entity, `crm.${entity}`);
  const sql = `insert into ${entity} (${columns.join(", ")}) values ?`;
  const count = world.sizes[entity];
  for (let start = 0; start < count; start += BATCH) {
    const rows: Cell[][] = [];
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      rows.push(rowOf(world, i));
      tally.record(badReasonOf(entity, i));
    }
    await connection.query(sql, [rows]);
  }
  return tally.report();
}

/** What the CRM's database holds, per table, as `report.json`'s entities count it. */
export interface CrmDatabaseOutput {
  reports: Partial<Record<Entity, EntityReport>>;
}

/**
 * (Re)creates the CRM's own tables `companies`, `contacts` and `deals` in the database `pool` connects to
 * (MySQL or MariaDB) and fills them with the records the API serves, one row per source key: the bad ones
 * as bad, none of the API's duplicate versions.
 */
export async function writeCrmDatabase(world: World, pool: Pool): Promise<CrmDatabaseOutput> {
  const connection = await pool.getConnection();
  try {
    // Strict, but zero dates allowed (MySQL 8 forbids them by default; MariaDB does not): the legacy rows have them.
    await connection.query("set session sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'");
    for (const statement of schema) await connection.query(statement);
    const reports: Partial<Record<Entity, EntityReport>> = {};
    for (const table of tables) reports[table.entity] = await fill(connection, world, table);
    return { reports };
  } finally {
    await connection.query("set session sql_mode = default").catch(() => {});
    connection.release();
  }
}
