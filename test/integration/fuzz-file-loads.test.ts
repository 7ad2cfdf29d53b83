import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isBadRow } from "../../connectors/bad-rows.ts";
import { readCsv } from "../../connectors/csv/index.ts";
import { readExcelSheet } from "../../connectors/excel/index.ts";
import { readJson } from "../../connectors/json/index.ts";
import { readJsonLines } from "../../connectors/jsonl/index.ts";
import { neo4jResource } from "../../connectors/neo4j/index.ts";
import { readParquet } from "../../connectors/parquet/index.ts";
import { defineStagedAsset, Staging, stagingResource } from "../../connectors/staging/index.ts";
import { readXml } from "../../connectors/xml/index.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { defineDefinitions } from "../../engine/definitions.ts";
import { packageRoot } from "../../resources/settings.ts";
import {
  agents,
  campaigns,
  csvCase,
  csvText,
  documentText,
  eventsOf,
  hostileDocuments,
  interactions,
  jsonDocument,
  jsonlFile,
  orders,
  parquetBytes,
  parquetCase,
  reps,
  shipment,
  shipmentXml,
  trackingEvents,
  workbookBytes,
  workbookCase,
} from "../fuzz-files.ts";
import { fuzzSeed, mutate, mutation, readAll, type StagedOutcome, stagedOutcome } from "../fuzz-inputs.ts";
import { checkLoad, fuzzAssets } from "../fuzz-loads.ts";
import { recordFigure } from "../reliability.ts";
import { dropLabels } from "../stream-project.ts";
import { connect, materialize } from "../support.ts";

/**
 * Fuzzed files of every kind through a real materialisation: staged assets with the bundled models (CSV, JSON
 * Lines, JSON, XML, Excel, Parquet, a 50 MB line among them) into Postgres staging and the dead-letter table, and
 * node assets into Neo4j. What the run stages, dead-letters and writes equals what the readers and models give
 * in-process, and the counts reconcile. A file that is not what its name says fails its asset whole, clearly,
 * with nothing staged. A 50 MB line is read in a process of its own: it grows it by less than 300 MB.
 */
const id = randomBytes(3).toString("hex");
const dir = mkdtempSync(join(tmpdir(), "ingest-fuzz-loads-"));
let env: Awaited<ReturnType<typeof connect>>;
const labels: string[] = [];
const tables: string[] = [];

beforeAll(async () => {
  env = await connect();
});
afterAll(async () => {
  for (const table of tables) await env?.pool.query(`drop table if exists staging.${table}`);
  if (env) {
    await dropLabels(env.neo4j, labels);
    await env.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

let files = 0;
const write = (name: string, bytes: Uint8Array | string) => {
  const path = join(dir, `${++files}-${name}`);
  writeFileSync(path, bytes);
  return path;
};

/** Cases drawn from an arbitrary with the suite's seed: the same files every run. */
const sample = <T>(arbitrary: fc.Arbitrary<T>, count: number) =>
  fc.sample(arbitrary, { seed: fuzzSeed, numRuns: count });

/** A 50 MB line of Cypher and SQL look-alikes and non-ASCII text, between `head` and `tail`, streamed to disk. */
async function fiftyMegabyteLine(name: string, head: string, tail: string): Promise<string> {
  const path = join(dir, name);
  const unit = "') DETACH DELETE n // ünïcødé 用户 '; drop table x; -- ";
  const chunk = unit.repeat(Math.ceil((1 << 20) / Buffer.byteLength(unit)));
  const out = createWriteStream(path);
  out.write(head);
  for (let bytes = 0; bytes < 50 * 2 ** 20; bytes += Buffer.byteLength(chunk)) {
    if (!out.write(chunk)) await once(out, "drain");
  }
  out.end(tail);
  await once(out, "finish");
  return path;
}

const fiftyMegabyteCsv = () =>
  fiftyMegabyteLine(
    "long.csv",
    "interaction_id,type,occurred_at,owner_id,contact_id,subject,notes\nI-1,call,2026-01-01T10:00:00Z,O-1,C-1,Intro,a\n" +
      'I-2,call,2026-01-01T11:00:00Z,O-1,C-1,Long,"',
    '"\nI-3,email,2026-01-02T09:00:00Z,O-2,C-2,Follow-up,b\n',
  );
const fiftyMegabyteJsonl = () =>
  fiftyMegabyteLine(
    "long.jsonl",
    '{"id":"A-1","name":"Ana","email":"ana@example.com"}\n{"id":"A-2","name":"Long","email":"l@example.com","team":"',
    '"}\n{"id":"A-3","name":"Cy","email":"cy@example.com"}\n',
  );

/** A kind of file as a staged asset and node asset read it: its files, each read as the asset's extract does. */
interface Kind {
  name: string;
  keyProperty: string;
  spec: Parameters<typeof stagedOutcome>[1] & { model: never };
  reads: (() => AsyncIterable<unknown>)[];
  integers?: string[];
}

const values = async function* (path: string) {
  for await (const line of readJsonLines(path)) yield isBadRow(line) ? line : line.value;
};
const scans = async function* (path: string) {
  for await (const s of readXml(path, { record: "shipment" })) yield* isBadRow(s) ? [s] : eventsOf(s);
};

async function kinds(): Promise<Kind[]> {
  const csv = sample(csvCase, 25).map((c, i) => {
    const { text } = csvText(c);
    const bytes = i % 5 === 4 ? mutate(new TextEncoder().encode(text), sample(mutation, 1)).bytes : text;
    const path = write("interactions.csv", bytes);
    return () => readCsv(path, { delimiter: c.delimiter });
  });
  const longCsv = await fiftyMegabyteCsv();
  const jsonl = sample(jsonlFile, 20).map(({ lines, crlf, mutations }) => {
    const path = write(
      "agents.jsonl",
      mutate(new TextEncoder().encode(lines.join(crlf ? "\r\n" : "\n")), mutations).bytes,
    );
    return () => values(path);
  });
  const longJsonl = await fiftyMegabyteJsonl();
  const json = sample(jsonDocument, 25).map(({ elements, nested, pretty, bom, mutations }) => {
    const { text } = documentText(elements, nested, pretty, bom);
    const path = write("campaigns.json", mutate(new TextEncoder().encode(text), mutations).bytes);
    return () => readJson(path, { path: nested ? "$.campaigns.*" : "$.*" });
  });
  const xml = sample(fc.array(shipment, { maxLength: 10 }), 12).map((shipments) => {
    const text = `<feed xmlns:geo="urn:example:geo">${shipments.map((s) => shipmentXml(s).xml).join("\n")}</feed>`;
    const path = write("feed.xml", text);
    return () => scans(path);
  });
  const hostileXml = write("hostile.xml", hostileDocuments[0]!);
  const excel = await Promise.all(
    sample(workbookCase.filter((c) => c.extra.every((h) => h.trim() !== "Owner ID")), 16).map(async (c) => {
      const path = write("reps.xlsx", await workbookBytes(c));
      return () => readExcelSheet(path, "Reps");
    }),
  );
  const parquet = sample(parquetCase, 20).map((c, i) => {
    const bytes = parquetBytes(c);
    const path = write("orders.parquet", i % 5 === 4 ? bytes.subarray(0, bytes.length - 50) : bytes);
    return () => readParquet(path, { batchSize: c.batchSize });
  });
  return [
    { name: "csv", keyProperty: "interactionId", spec: interactions, reads: [...csv, () => readCsv(longCsv)] },
    { name: "jsonl", keyProperty: "agentId", spec: agents, reads: [...jsonl, () => values(longJsonl)] },
    { name: "json", keyProperty: "campaignId", spec: campaigns, reads: json },
    { name: "xml", keyProperty: "eventId", spec: trackingEvents, reads: [...xml, () => scans(hostileXml)] },
    { name: "excel", keyProperty: "salesRepId", spec: reps, reads: excel },
    { name: "parquet", keyProperty: "orderId", spec: orders, reads: parquet, integers: ["items"] },
  ] as unknown as Kind[];
}

describe("fuzzed files through a materialisation into staging, dead letters and Neo4j", () => {
  it("stages, dead-letters and writes exactly what the readers and models give, and the counts reconcile", async () => {
    const all = await kinds();
    const expected = new Map<string, StagedOutcome<unknown>>();
    const load = (kind: Kind) => ({
      key: `fuzz_${id}/${kind.name}`,
      table: `fz_${kind.name}_${id}`,
      label: `Fuzz${kind.name}_${id}`,
      keyProperty: kind.keyProperty,
    });
    const assets = all.flatMap((kind) => {
      tables.push(load(kind).table);
      labels.push(load(kind).label);
      return fuzzAssets(load(kind), kind.spec, async function* () {
        for (const read of kind.reads) yield* read();
      }, { integers: kind.integers });
    });
    for (const kind of all) {
      const items = [];
      for (const read of kind.reads) items.push(...(await readAll(read())).items);
      expected.set(kind.name, stagedOutcome(items, kind.spec));
    }
    const graph = buildAssetGraph(
      defineDefinitions({ assets, resources: { staging: stagingResource(), neo4j: neo4jResource() } }),
    );
    const { run } = await materialize(env.pool, graph);
    expect(run.status, run.error ?? "").toBe("succeeded");

    for (const kind of all) {
      const want = expected.get(kind.name)!;
      const lost = await checkLoad(env, run.id, load(kind), want);
      recordFigure(
        `fuzz: ${kind.name} loads, records`,
        want.extracted,
        "records",
        ">= 50",
        `${kind.reads.length} files`,
      );
      recordFigure(`fuzz: ${kind.name} loads, records lost or duplicated`, lost, "records", "<= 0");
    }
  });

  it("fails an asset whose file is not what its name says, naming it, with nothing staged or dead-lettered", async () => {
    const table = `fz_whole_${id}`;
    tables.push(table);
    const good = write(
      "good.csv",
      "interaction_id,type,occurred_at,owner_id,contact_id\nI-1,call,2026-01-01T10:00:00Z,O,C\n",
    );
    const text = write("reps.xlsx", "Owner ID,Email\nO-1,a@example.com\n");
    const staged = defineStagedAsset({
      key: `fuzz_${id}/whole`,
      codeVersion: "1",
      table,
      source: "fuzz.whole",
      ...interactions,
      retry: { maxAttempts: 1 },
      async *extract() {
        yield* readCsv(good);
        yield* readExcelSheet(text, "Reps");
      },
    });
    const graph = buildAssetGraph(defineDefinitions({ assets: [staged], resources: { staging: stagingResource() } }));
    const { run } = await materialize(env.pool, graph);
    expect(run.status).toBe("failed");
    expect(run.error).toContain(`${text}: not a readable .xlsx workbook`);
    expect(await new Staging(env.pool).read(table)).toEqual([]);
    expect(await listDeadLetters(env.db, { runId: run.id, status: "all" })).toEqual([]);
  });
});

const run = promisify(execFile);

describe("a 50 MB line", () => {
  it("grows a process reading it by less than 300 MB, and is loaded or a bad row naming its line, never dropped", async () => {
    const lines = {
      csv: await fiftyMegabyteCsv(),
      jsonl: await fiftyMegabyteJsonl(),
      json: await fiftyMegabyteLine(
        "long.json",
        '[{"id":"C-1","name":"a","channel":"email","starts_at":"2026-01-01","budget":{"amount":1,"currency":"EUR"},' +
          '"daily_spend":[]},{"id":"C-2","name":"',
        '"},{"id":"C-3"}]',
      ),
      xml: await fiftyMegabyteLine(
        "long.xml",
        "<feed><shipment><reference>S-1</reference></shipment><shipment><reference>",
        "</reference></shipment></feed>",
      ),
    };
    // what comes of each item: loaded records, and bad rows at the long line (for JSON and XML, reading stops there)
    const loaded = { record: "loaded" };
    const outcomes: Record<string, object[]> = {
      csv: [loaded, {
        bad: 3,
        error: expect.stringMatching(/^:3: a line of \d+ characters, longer than maxRecordSize/),
      }, loaded],
      jsonl: [
        loaded,
        { bad: 2, error: expect.stringMatching(/^:2: a line of \d+ characters, longer than 16777216/) },
        loaded,
      ],
      json: [loaded, {
        bad: 1,
        error: expect.stringMatching(/nothing ends within 16777216 bytes .*reading stopped there$/),
      }],
      xml: [loaded, {
        bad: 1,
        error: expect.stringMatching(/no markup within 16777216 characters .*reading stopped there$/),
      }],
    };
    for (const [kind, path] of Object.entries(lines)) {
      const { stdout } = await run(
        process.execPath,
        [join(packageRoot, "test", "long-line-reader.ts"), kind, path],
        { timeout: 120_000, killSignal: "SIGKILL", maxBuffer: 1 << 20 },
      );
      const { growthMb, items } = JSON.parse(stdout) as { growthMb: number; items: Record<string, unknown>[] };
      expect(growthMb, kind).toBeLessThan(300);
      expect(items, kind).toMatchObject(outcomes[kind]!);
      recordFigure(`fuzz: 50 MB line, ${kind}: memory growth`, Math.round(growthMb), "MB", "< 300");
    }
  });
});
