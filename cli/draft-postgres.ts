import { openPool, type pg } from "../resources/postgres.ts";

/**
 * `ingest init --from-postgres <url> --tables a,b`: drafts, from a real schema, a staged asset and a
 * node asset per table, and a relationship asset per single-column foreign key between the tables
 * given. A draft to edit, not a mapping to trust: the zod model follows the column types, labels
 * and relationship types follow the table and column names. The URL is never written to a file;
 * the project reads it from `SOURCE_DATABASE_URL`.
 */

interface Column {
  name: string;
  type: string;
  /** `_int4` for an int[]: the element type of an array. */
  udt: string;
  nullable: boolean;
}

interface ForeignKey {
  column: string;
  table: string;
  column_referenced: string;
}

export interface TableSchema {
  schema: string;
  table: string;
  columns: Column[];
  primaryKey: string[];
  foreignKeys: ForeignKey[];
}

/** The environment variable the drafted project reads its source database's URL from. */
export const sourceUrlVariable = "SOURCE_DATABASE_URL";

const camel = (name: string) =>
  name.toLowerCase().replace(/[^a-z0-9]+([a-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, "");
const pascal = (name: string) => camel(name).replace(/^./, (c) => c.toUpperCase());
const upperSnake = (name: string) => name.toUpperCase().replace(/[^A-Z0-9]+/g, "_").replace(/^_|_$/g, "");
const singular = (name: string) =>
  name.replace(/ies$/i, "y").replace(/(s|x|z|ch|sh)es$/i, "$1").replace(/([^s])s$/i, "$1");
const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Reads the columns, primary key and foreign keys of `schema.table` names (schema `public` when not given). */
export async function readSchemas(url: string, tables: string[]): Promise<TableSchema[]> {
  const pool = await openPool(url, {
    what: "the database to draft assets from",
    source: { variable: "--from-postgres", fromEnvironment: true },
    max: 1,
  });
  try {
    return await Promise.all(tables.map((name) => readSchema(pool, name)));
  } finally {
    await pool.end();
  }
}

async function readSchema(pool: pg.Pool, qualified: string): Promise<TableSchema> {
  const [schema, table] = qualified.includes(".") ? qualified.split(".", 2) as [string, string] : ["public", qualified];
  const columns = await pool.query<Column>(
    `select column_name as name, data_type as type, udt_name as udt, is_nullable = 'YES' as nullable
     from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position`,
    [schema, table],
  );
  if (columns.rows.length === 0) {
    const { rows } = await pool.query<{ name: string }>(
      `select table_schema || '.' || table_name as name from information_schema.tables
       where table_schema not in ('pg_catalog', 'information_schema') order by 1 limit 30`,
    );
    throw new Error(
      `no table ${schema}.${table} in that database; it has: ${rows.map((r) => r.name).join(", ") || "no tables"}`,
    );
  }
  const keys = await pool.query<{ kind: string; columns: string[]; table: string | null; referenced: string[] | null }>(
    `select c.contype as kind,
       array(select a.attname from unnest(c.conkey) with ordinality k(n, i)
             join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i)::text[] as columns,
       case when c.contype = 'f' then (select n.nspname || '.' || r.relname from pg_class r
         join pg_namespace n on n.oid = r.relnamespace where r.oid = c.confrelid) end as table,
       case when c.contype = 'f' then array(select a.attname from unnest(c.confkey) with ordinality k(n, i)
         join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i)::text[] end as referenced
     from pg_constraint c where c.conrelid = $1::regclass and c.contype in ('p', 'f')`,
    [`${quoteIdent(schema)}.${quoteIdent(table)}`],
  );
  const primary = keys.rows.find((k) => k.kind === "p");
  if (!primary) {
    throw new Error(
      `${schema}.${table} has no primary key: a staged asset keys each row by it, so give the table one (or draft it by hand)`,
    );
  }
  return {
    schema,
    table,
    columns: columns.rows,
    primaryKey: primary.columns,
    foreignKeys: keys.rows.filter((k) => k.kind === "f" && k.columns.length === 1).map((k) => ({
      column: k.columns[0]!,
      table: k.table!,
      column_referenced: k.referenced![0]!,
    })),
  };
}

/** A column's zod type, or undefined for a type that has no place in a graph property (bytea, geometry…). */
function zodType(column: Column): string | undefined {
  const scalar = (type: string): string | undefined => {
    if (/^(smallint|integer|bigint|int2|int4|int8)$/.test(type)) return "z.coerce.number().int()";
    if (/^(numeric|real|double precision|float4|float8|decimal|money)$/.test(type)) return "z.coerce.number()";
    if (/^(boolean|bool)$/.test(type)) return "z.boolean()";
    if (/^(text|character varying|character|varchar|bpchar|char|uuid|citext|name|inet)$/.test(type)) {
      return "z.coerce.string()";
    }
    if (/^(date|timestamp|timestamptz|timestamp with(out)? time zone)$/.test(type)) {
      return "z.coerce.date().transform((d) => d.toISOString())";
    }
    if (/^jsonb?$/.test(type)) return "z.unknown()";
    return undefined;
  };
  const base = column.type === "ARRAY"
    ? (scalar(column.udt.replace(/^_/, "")) ?? "").replace(/^(.+)$/, "z.array($1)") || undefined
    : scalar(column.type);
  if (!base) return undefined;
  return column.nullable && base !== "z.unknown()" ? `${base}.nullable()` : base;
}

/** What a table drafts into: its file under `assets/<schema>/` and the names it exports. */
export interface DraftedTable {
  file: string;
  exports: string[];
  label: string;
}

/** The assets of one table: model, staged asset, node asset, and a relationship per foreign key to a drafted table. */
export function draftTable(table: TableSchema, all: TableSchema[]): DraftedTable & { text: string } {
  const name = camel(singular(table.table));
  const Model = pascal(singular(table.table));
  const group = camel(table.schema);
  const usable = table.columns.filter((c) => zodType(c) !== undefined);
  const skipped = table.columns.filter((c) => zodType(c) === undefined);
  const composite = table.primaryKey.length > 1;
  const keyProperty = composite ? `${name}Key` : camel(table.primaryKey[0]!);
  const keyOf = (row: string) =>
    composite ? table.primaryKey.map((c) => `\${${row}.${c}}`).join(":") : `\${${row}.${table.primaryKey[0]}}`;
  // Whole-number columns are written as Neo4j INTEGERs (JavaScript would send floats).
  const integers = usable.filter((c) => /^(smallint|integer|bigint)$/.test(c.type)).map((c) => camel(c.name));
  const property = (c: Column) =>
    `${camel(c.name)}: r.${c.name}${
      /^jsonb?$/.test(c.type) ? " === null ? null : JSON.stringify(r." + c.name + ")" : ""
    }`;
  const relationships = table.foreignKeys.flatMap((fk) => {
    const target = all.find((t) => `${t.schema}.${t.table}` === fk.table);
    if (!target || target.primaryKey.length !== 1 || target.primaryKey[0] !== fk.column_referenced) return [];
    return [{ fk, type: upperSnake(fk.column.replace(/_?id$/i, "")) || upperSnake(singular(target.table)), target }];
  });
  const otherTables = [...new Set(relationships.map((r) => r.target).filter((t) => t !== table))];
  const lines = [
    `import { defineNodeAsset, ${
      relationships.length ? "defineRelationshipAsset, " : ""
    }defineStagedAsset, type pg, readTable } from "ingest-graph";`,
    `import { z } from "zod";`,
    ...otherTables.map((t) => `import { ${camel(singular(t.table))}Nodes } from "./${t.table}.ts";`),
    "",
    `/** A row of ${table.schema}.${table.table}, as its columns are typed${
      skipped.length ? ` (left out, no graph type: ${skipped.map((c) => c.name).join(", ")})` : ""
    }. */`,
    `export const ${Model} = z.object({`,
    ...usable.map((c) => `  ${/^[A-Za-z_]\w*$/.test(c.name) ? c.name : JSON.stringify(c.name)}: ${zodType(c)},`),
    `});`,
    `export type ${Model} = z.infer<typeof ${Model}>;`,
    "",
    `/** Every row of ${table.schema}.${table.table}, validated and staged by its primary key. */`,
    `export const staged${pascal(table.table)} = defineStagedAsset<${Model}, { source: pg.Pool }>({`,
    `  key: "${group}/${table.table}",`,
    `  codeVersion: "1",`,
    `  table: "${`${group}_${table.table}`.toLowerCase().replace(/[^a-z0-9_]+/g, "_")}",`,
    `  source: "${table.schema}.${table.table}",`,
    `  model: ${Model},`,
    `  sourceKey: (r) => \`${keyOf("r")}\`,`,
    `  rawKey: (row) => \`${keyOf("row")}\`,`,
    `  resources: ["source"],`,
    `  extract: ({ resources: { source } }) =>`,
    `    readTable(source, ${
      JSON.stringify(
        `select * from ${quoteIdent(table.schema)}.${quoteIdent(table.table)} order by ${
          table.primaryKey.map(quoteIdent).join(", ")
        }`,
      )
    }),`,
    `});`,
    "",
    `/** A (:${Model} {${keyProperty}}) node per row. */`,
    `export const ${name}Nodes = defineNodeAsset<${Model}>({`,
    `  key: "graph/${Model}",`,
    `  codeVersion: "1",`,
    `  label: "${Model}",`,
    `  keyProperty: "${keyProperty}",`,
    `  from: staged${pascal(table.table)},`,
    ...(integers.length ? [`  integers: [${integers.map((p) => JSON.stringify(p)).join(", ")}],`] : []),
    `  properties: (r) => ({`,
    ...(composite ? [`    ${keyProperty}: \`${keyOf("r")}\`,`] : []),
    ...usable.map((c) => `    ${property(c)},`),
    `  }),`,
    `});`,
    ...relationships.flatMap(({ fk, type, target }) => [
      "",
      `/** (:${Model})-[:${type}]->(:${pascal(singular(target.table))}), from the foreign key ${fk.column}. */`,
      `export const ${camel(type.toLowerCase())}Of${Model} = defineRelationshipAsset<${Model}>({`,
      `  key: "graph/${Model}_${type}",`,
      `  codeVersion: "1",`,
      `  type: "${type}",`,
      `  from: staged${pascal(table.table)},`,
      `  start: { node: ${name}Nodes, value: (r) => ${composite ? `\`${keyOf("r")}\`` : `r.${table.primaryKey[0]}`} },`,
      `  end: { node: ${camel(singular(target.table))}Nodes, value: (r) => r.${fk.column} },`,
      `});`,
    ]),
    "",
  ];
  return {
    file: `assets/${group}/${table.table}.ts`,
    exports: [
      `staged${pascal(table.table)}`,
      `${name}Nodes`,
      ...relationships.map(({ type }) => `${camel(type.toLowerCase())}Of${Model}`),
    ],
    label: Model,
    text: lines.join("\n"),
  };
}

/** A project drafted from a database: the files to write, the example's files they replace, the README's words. */
export interface DraftedProject {
  files: Map<string, string>;
  replaces: string[];
  values: Record<string, string>;
}

/**
 * Every table's file and an `index.ts` per schema gathering its assets, with the definitions, resources,
 * sensors and test that go with them in place of the CSV example's.
 */
export function draftProject(tables: TableSchema[]): DraftedProject {
  const files = new Map<string, string>();
  const drafted = tables.map((t) => ({ table: t, ...draftTable(t, tables) }));
  const groups = [...new Set(tables.map((t) => camel(t.schema)))];
  for (const group of groups) {
    const mine = drafted.filter((d) => camel(d.table.schema) === group);
    for (const d of mine) files.set(d.file, d.text);
    files.set(
      `assets/${group}/index.ts`,
      [
        ...mine.map((d) => `import { ${d.exports.join(", ")} } from "./${d.table.table}.ts";`),
        "",
        `/** The assets drafted from the ${mine[0]!.table.schema} schema of ${sourceUrlVariable}: edit them freely. */`,
        `export const ${group}Assets = [${mine.flatMap((d) => d.exports).join(", ")}];`,
        "",
      ].join("\n"),
    );
  }
  files.set("definitions.ts", definitionsFile(groups));
  files.set("resources/index.ts", resourcesFile);
  files.set("schedules/index.ts", schedulesFile(groups));
  files.set("sensors/index.ts", sensorsFile(groups));
  files.set("test/pipeline.test.ts", testFile(drafted));
  const first = drafted[0]!;
  return {
    files,
    replaces: ["assets/products.ts", "data"],
    values: {
      about:
        `the tables ${
          tables.map((t) => `\`${t.schema}.${t.table}\``).join(", ")
        } of the database at \`${sourceUrlVariable}\`, ` +
        `validated, staged and loaded into Neo4j as ${drafted.map((d) => `\`(:${d.label})\``).join(", ")} nodes, ` +
        "their foreign keys as relationships. Drafted by `ingest init --from-postgres`: edit the assets freely.",
      assetList: groups.map((g) => `\`assets/${g}/\``).join(", ") + `, one file per table of \`${sourceUrlVariable}\``,
      sensorList: "`sources_changed`: when a nightly read finds new rows, the graph assets downstream run",
      exampleSelection: `${camel(first.table.schema)}/${first.table.table}+`,
      exampleNode: `${first.label}:<key>`,
    },
  };
}

const definitionsFile = (groups: string[]) =>
  [
    'import { defineDefinitions } from "ingest-graph";',
    ...groups.map((g) => `import { ${g}Assets } from "./assets/${g}/index.ts";`),
    'import { resources } from "./resources/index.ts";',
    'import { schedules } from "./schedules/index.ts";',
    'import { sensors } from "./sensors/index.ts";',
    "",
    "/** This project: what `ingest` loads from this folder. */",
    "export default defineDefinitions({",
    `  assets: [${groups.map((g) => `...${g}Assets`).join(", ")}],`,
    "  resources,",
    "  schedules,",
    "  sensors,",
    "});",
    "",
  ].join("\n");

const resourcesFile = `import { neo4jResource, postgresResource, stagingResource } from "ingest-graph";

/**
 * What the assets need, made by the framework's constructors. Staging and Neo4j read their connections
 * from the environment (\`DATABASE_URL\`, \`NEO4J_URI\`/\`NEO4J_USER\`/\`NEO4J_PASSWORD\`), else use the local
 * stack that \`ingest stack up\` starts. Add \`chroma: chromaResource()\` and \`embedder: embedderResource()\`
 * for collection assets.
 */
export const resources = {
  staging: stagingResource(),
  neo4j: neo4jResource(),
  /** The database the drafted assets read. Its URL is never written down: set ${sourceUrlVariable}. */
  source: postgresResource(() => process.env.${sourceUrlVariable}!, { setting: "${sourceUrlVariable}" }),
};
`;

/** The sources re-read every night: staging keeps only what changed, and the sensor takes it from there. */
function schedulesFile(groups: string[]): string {
  const sources = groups.map((g) => `group:${g}`).join(" or ");
  return `import { defineSchedule } from "ingest-graph";

/** Every night at 02:00 (in the zone below) the source tables are read again; only what changed goes further. */
export const nightly = defineSchedule({
  name: "nightly",
  description: "re-read the source tables",
  cron: "0 2 * * *",
  timezone: "Europe/Berlin",
  select: "${sources}",
  catchUp: { last: 1 },
});

/** Cron schedules, run by \`ingest daemon\`. */
export const schedules = [nightly];
`;
}

/** What reads the sources runs when they have new data: only what is stale, so an unchanged night triggers nothing. */
function sensorsFile(groups: string[]): string {
  const sources = groups.map((g) => `group:${g}`).join(" or ");
  return `import { defineAssetSensor } from "ingest-graph";

/**
 * When a source table's staged asset has new data (the nightly schedule, or \`ingest materialize\`),
 * the assets that read it run: \`ingest daemon\` evaluates it. Add \`defineFileSensor\` to react to
 * files landing in a folder.
 */
export const sourcesChanged = defineAssetSensor({
  name: "sources_changed",
  watch: "${sources}",
  select: "(${sources})+ and not (${sources})",
});

/** Sensors, run by \`ingest daemon\`. */
export const sensors = [sourcesChanged];
`;
}

/** A test that materialises everything and checks each table's rows are nodes, or dead letters with their reasons. */
function testFile(drafted: (DraftedTable & { table: TableSchema })[]): string {
  const expectations = drafted.map((d) =>
    `  [${JSON.stringify(`${quoteIdent(d.table.schema)}.${quoteIdent(d.table.table)}`)}, "${d.label}", "${
      camel(d.table.schema)
    }/${d.table.table}"],`
  );
  return `// Everything materialised against the stack and ${sourceUrlVariable}: each table's rows are nodes, or dead
// letters with their reasons, and nothing is lost. Run with \`node --test test/\`.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { connectNeo4j, createPool, type Driver } from "ingest-graph";
import { ingest } from "./ingest.ts";

/** Each source table, the label its rows become, and the staged asset that reads it. */
const tables: [string, string, string][] = [
${expectations.join("\n")}
];

let neo4j: Driver;
before(() => {
  neo4j = connectNeo4j();
});
after(() => neo4j.close());

test("every row of every table is a node, or a dead letter with its reason", async () => {
  const { run } = ingest("materialize", "*", "--wait", "--full-refresh") as { run: { status: string } };
  assert.equal(run.status, "succeeded");
  const source = createPool(process.env.${sourceUrlVariable}!, 1);
  try {
    for (const [table, label, asset] of tables) {
      const rows = Number((await source.query(\`select count(*) as n from \${table}\`)).rows[0].n);
      const letters = ingest("dead-letters", "--asset", asset, "--limit", "100000") as unknown[];
      const { records } = await neo4j.executeQuery(\`MATCH (n:\${label}) RETURN count(n) AS n\`);
      assert.equal(records[0]!.get("n").toNumber(), rows - letters.length, \`\${table} → (:\${label})\`);
    }
  } finally {
    await source.end();
  }
});
`;
}
