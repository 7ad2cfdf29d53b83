import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ChromaMetadataError, type ChromaResource, defineCollectionAsset } from "../../connectors/chroma/index.ts";
import { isBadRow } from "../../connectors/bad-rows.ts";
import { readJsonLines } from "../../connectors/jsonl/index.ts";
import {
  connectNeo4j,
  defineNodeAsset,
  defineRelationshipAsset,
  type Driver,
  ensureIndex,
  ensureRelationshipIndex,
  ensureUniqueKey,
  findNodeRecord,
  mergeNodes,
  mergeRelationships,
  missingEnds,
  type NodeAssetSpec,
  removeNodes,
  removeRelationships,
  runInBatches,
  sweepNodes,
  sweepRelationships,
} from "../../connectors/neo4j/index.ts";
import { defineStagedAsset, Staging } from "../../connectors/staging/index.ts";
import type { SchemaContract } from "../../connectors/staging/schema-drift.ts";
import { type AssetDefinition, defineAsset } from "../../engine/asset.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { defineResource } from "../../engine/resource.ts";
import { embedderResource } from "../../resources/embedder-resource.ts";
import { createPool } from "../../resources/postgres.ts";
import { recordFigure } from "../reliability.ts";
import { connectTo, dropDatabase, freshDatabase, materialize } from "../support.ts";

/**
 * Names go into Cypher as text (labels, relationship types, property keys, index and constraint names) and
 * into Chroma's API (collection names, metadata fields): every hostile name below is tried in every position
 * one can reach, each is refused with an error naming it, and the stores are untouched: a sentinel node and a
 * sentinel collection keep what they held, nothing is written under the labels tried, and no label, type,
 * property key, index, constraint or collection of a hostile name appears. Keys that come from source data
 * (a field schema drift adds, kept by `schema: "evolve"`) are refused at the write, nothing of it written.
 */
const id = randomBytes(4).toString("hex");
const Sentinel = `SecSentinel_${id}`;
const Item = `SecItem_${id}`;
const Other = `SecOther_${id}`;
const LINK = `SEC_LINK_${id}`;
const Admin = `SecAdmin_${id}`;

/** What no store may ever see as a name. */
const hostile = [
  "",
  " ",
  "Item Name",
  "a`b",
  "`",
  ") DETACH DELETE n //",
  "`) DETACH DELETE n //",
  "x`}) MATCH (s) DETACH DELETE s //",
  "\\u0060) DETACH DELETE n //",
  // Deleted the sentinel when property keys were only backtick-quoted: Neo4j reads \u0060 inside backticks
  // as the closing backtick; the comments swallow the rest of the statement's two lines that hold the key.
  `*/ //\\u0060 = 1 WITH n MATCH (s:${Sentinel}) DETACH DELETE s WITH n /*`,
  `Item:${Admin}`,
  "Item {admin: true}",
  "Item\n",
  "Item\u0000",
  "\u0406tem", // Cyrillic І
  "\uff29tem", // fullwidth Ｉ
  "Item\u200b", // zero-width space
  "1Item",
  "$name",
  "I".repeat(64),
];

/** More that Chroma itself would take as a metadata field, and misread: reserved keys and filter operators. */
const hostileFields = [...hostile, "$and", "$contains", "#document", "chroma:document", "a.b"];

/** Names Chroma refuses for a collection, or that would reach another path of its REST API. */
const hostileCollections = [
  ...hostile.filter((name) => name !== "1Item"),
  "../default_database",
  "a/b",
  "ab..cd",
  "%2e%2e",
  "-ab",
];

/** The name as an error shows it (escaped, so an invisible character can be seen). */
const shown = (name: string) => JSON.stringify(name).slice(1, -1);

// A database of its own: the drift projects' jobs must meet no other test's workers in a shared queue.
const database = `ingest_security_${id}`;
let databaseUrl: string;
let env: Awaited<ReturnType<typeof connectTo>>;
let neo4j: Driver;
let chroma: ChromaResource;
const sentinelCollection = `sec-sentinel-${id}`;
const itemCollection = `sec-items-${id}`;
const folder = mkdtempSync(join(tmpdir(), "ingest-security-identifiers-"));
/** Attempts that were not refused, over every position and name: what the figure reports. */
let accepted = 0;
let attempts = 0;
let driftAttempts = 0;

async function count(query: string, params: Record<string, unknown> = {}): Promise<number> {
  const { records } = await neo4j.executeQuery(query, params);
  return records[0]!.get(0).toNumber();
}

/** Every label, type, property key, index and constraint name, label and property Neo4j holds. */
async function schemaNames(): Promise<Set<string>> {
  const names = new Set<string>();
  const add = async (query: string) => {
    for (const record of (await neo4j.executeQuery(query)).records) {
      for (const value of record.values()) {
        for (const name of [value].flat() as (string | null)[]) if (name !== null) names.add(name);
      }
    }
  };
  await add("CALL db.labels()");
  await add("CALL db.relationshipTypes()");
  await add("CALL db.propertyKeys()");
  await add("SHOW INDEXES YIELD name, labelsOrTypes, properties RETURN name, labelsOrTypes, properties");
  await add("SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties RETURN name, labelsOrTypes, properties");
  return names;
}

let namesBefore: Set<string>;

beforeAll(async () => {
  databaseUrl = await freshDatabase(database);
  env = await connectTo(databaseUrl);
  neo4j = env.neo4j;
  chroma = env.chroma;
  await neo4j.executeQuery(`CREATE (:${Sentinel} {id: "sentinel", kept: true})`);
  await ensureUniqueKey(neo4j, Item, "id");
  await ensureUniqueKey(neo4j, Other, "id");
  await chroma.upsert(sentinelCollection, {
    ids: ["s"],
    embeddings: [[0.1, 0.2, 0.3]],
    documents: ["sentinel"],
    metadatas: [{ kept: "yes" }],
  });
  namesBefore = await schemaNames();
});

afterAll(async () => {
  for (const label of [Sentinel, Item, Other, `SecDrift_${id}`]) {
    await runInBatches(neo4j, `MATCH (n:${label}) DETACH DELETE n`);
  }
  for (const label of [Item, Other, `SecDrift_${id}`]) {
    for (const rule of ["id_unique", "ingestsourcekey_index", "itemid_unique"]) {
      await neo4j.executeQuery(`DROP CONSTRAINT ${label.toLowerCase()}_${rule} IF EXISTS`);
      await neo4j.executeQuery(`DROP INDEX ${label.toLowerCase()}_${rule} IF EXISTS`);
    }
  }
  for (const name of [sentinelCollection, itemCollection, `sec-drift-${id}`]) await chroma.drop(name);
  await env.close();
  await dropDatabase(database);
  rmSync(folder, { recursive: true, force: true });
});

/** Each position a name reaches Cypher from, and the kind of name its error says. */
interface Position {
  position: string;
  kind: string;
  attempt(name: string): unknown;
}

const itemSpec = (): NodeAssetSpec<{ id: string }> => ({
  key: `sec_${id}/Item`,
  codeVersion: "1",
  label: Item,
  keyProperty: "id",
  from: staged(),
  properties: (r) => r,
});
const itemNodes = () => defineNodeAsset(itemSpec());
const otherNodes = () => defineNodeAsset({ ...itemSpec(), key: `sec_${id}/Other`, label: Other });
/** An asset of the user's own, declaring the nodes it writes: what a relationship end may name. */
const customNodes = (label: string, keyProperty: string): AssetDefinition =>
  defineAsset({
    key: `sec_${id}/custom`,
    codeVersion: "1",
    target: { kind: "neo4j-nodes", label, keyProperty },
    materialize: () => Promise.resolve({}),
  });
const staged = () =>
  defineStagedAsset<{ id: string }>({
    key: `sec_${id}/items`,
    codeVersion: "1",
    table: `sec_${id}_items`,
    source: "nowhere",
    model: z.object({ id: z.string() }),
    sourceKey: (r) => r.id,
    rawKey: (r) => r.id,
    extract: () => [],
  });
const end = { label: Other, key: "id" };
const start = { label: Item, key: "id" };
const hold = () => Promise.resolve();

const graphPositions: Position[] = [
  { position: "node asset: label", kind: "label", attempt: (name) => defineNodeAsset({ ...itemSpec(), label: name }) },
  {
    position: "node asset: key property",
    kind: "property key",
    attempt: (name) => defineNodeAsset({ ...itemSpec(), keyProperty: name }),
  },
  {
    position: "node asset: index",
    kind: "property key",
    attempt: (name) => defineNodeAsset({ ...itemSpec(), indexes: [name] }),
  },
  {
    position: "node asset: integer property",
    kind: "property key",
    attempt: (name) => defineNodeAsset({ ...itemSpec(), integers: [name] }),
  },
  {
    position: "relationship asset: type",
    kind: "relationship type",
    attempt: (name) =>
      defineRelationshipAsset({
        key: `sec_${id}/LINK`,
        codeVersion: "1",
        type: name,
        from: staged(),
        start: { node: itemNodes(), value: (r) => r.id },
        end: { node: otherNodes(), value: (r) => r.id },
      }),
  },
  {
    position: "relationship asset: integer property",
    kind: "property key",
    attempt: (name) =>
      defineRelationshipAsset({
        key: `sec_${id}/LINK`,
        codeVersion: "1",
        type: LINK,
        from: staged(),
        start: { node: itemNodes(), value: (r) => r.id },
        end: { node: otherNodes(), value: (r) => r.id },
        integers: [name],
      }),
  },
  {
    position: "relationship asset: start label (a custom asset's target)",
    kind: "label",
    attempt: (name) =>
      defineRelationshipAsset({
        key: `sec_${id}/LINK`,
        codeVersion: "1",
        type: LINK,
        from: staged(),
        start: { node: customNodes(name, "id"), value: (r) => r.id },
        end: { node: otherNodes(), value: (r) => r.id },
      }),
  },
  {
    position: "relationship asset: end key (a custom asset's target)",
    kind: "property key",
    attempt: (name) =>
      defineRelationshipAsset({
        key: `sec_${id}/LINK`,
        codeVersion: "1",
        type: LINK,
        from: staged(),
        start: { node: itemNodes(), value: (r) => r.id },
        end: { node: customNodes(Other, name), value: (r) => r.id },
      }),
  },
  { position: "mergeNodes: label", kind: "label", attempt: (name) => mergeNodes(neo4j, name, "id", [row()]) },
  { position: "mergeNodes: key", kind: "property key", attempt: (name) => mergeNodes(neo4j, Item, name, [row()]) },
  {
    position: "mergeNodes: a record's property key",
    kind: "property key",
    attempt: (name) => mergeNodes(neo4j, Item, "id", [row(), { key: "k2", props: { id: "k2", [name]: 1 } }]),
  },
  {
    position: "mergeRelationships: type",
    kind: "relationship type",
    attempt: (name) => mergeRelationships(neo4j, name, start, end, [link()]),
  },
  {
    position: "mergeRelationships: start label",
    kind: "label",
    attempt: (name) => mergeRelationships(neo4j, LINK, { ...start, label: name }, end, [link()]),
  },
  {
    position: "mergeRelationships: end key",
    kind: "property key",
    attempt: (name) => mergeRelationships(neo4j, LINK, start, { ...end, key: name }, [link()]),
  },
  {
    position: "mergeRelationships: a record's property key",
    kind: "property key",
    attempt: (name) => mergeRelationships(neo4j, LINK, start, end, [{ ...link(), props: { [name]: 1 } }]),
  },
  {
    position: "missingEnds: end label",
    kind: "label",
    attempt: (name) => missingEnds(neo4j, start, { ...end, label: name }, [link()]),
  },
  {
    position: "uniqueness constraint: label",
    kind: "label",
    attempt: (name) => ensureUniqueKey(neo4j, name, "id"),
  },
  {
    position: "uniqueness constraint: key",
    kind: "property key",
    attempt: (name) => ensureUniqueKey(neo4j, Item, name),
  },
  { position: "index: label", kind: "label", attempt: (name) => ensureIndex(neo4j, name, "id") },
  { position: "index: property", kind: "property key", attempt: (name) => ensureIndex(neo4j, Item, name) },
  {
    position: "relationship index: type",
    kind: "relationship type",
    attempt: (name) => ensureRelationshipIndex(neo4j, name, "ingestSourceKey"),
  },
  {
    position: "relationship index: property",
    kind: "property key",
    attempt: (name) => ensureRelationshipIndex(neo4j, LINK, name),
  },
  {
    position: "removeNodes: label",
    kind: "label",
    attempt: (name) => removeNodes(neo4j, name, "id", [{ sourceKey: "k", key: null }], "a", hold),
  },
  {
    position: "removeNodes: key",
    kind: "property key",
    attempt: (name) => removeNodes(neo4j, Item, name, [{ sourceKey: "k", key: null }], "a", hold),
  },
  { position: "sweepNodes: label", kind: "label", attempt: (name) => sweepNodes(neo4j, name, "id", "a", [], hold) },
  {
    position: "removeRelationships: type",
    kind: "relationship type",
    attempt: (name) => removeRelationships(neo4j, name, start, end, [{ key: "k", start: null, end: null }], "a"),
  },
  {
    position: "sweepRelationships: type",
    kind: "relationship type",
    attempt: (name) => sweepRelationships(neo4j, name, "a", []),
  },
  {
    position: "lineage lookup: a custom asset's key property",
    kind: "property key",
    attempt: (name) => findNodeRecord(neo4j, [customNodes(Item, name)], `${Item}:k1`),
  },
];
function row() {
  return { key: "k1", props: { id: "k1", name: "one" } };
}
function link() {
  return { start: "k1", end: "k1", props: {} };
}

const chromaPositions: Position[] = [
  {
    position: "collection asset: collection",
    kind: "Chroma collection name",
    attempt: (name) =>
      defineCollectionAsset<{ id: string }>({
        key: `sec_${id}/vectors`,
        codeVersion: "1",
        collection: name,
        from: staged(),
        document: (r) => r.id,
        metadata: () => ({}),
      }),
  },
  { position: "collection: get or create", kind: "Chroma collection name", attempt: (name) => chroma.collection(name) },
  { position: "collection: drop", kind: "Chroma collection name", attempt: (name) => chroma.drop(name) },
  {
    position: "collection: upsert into one named",
    kind: "Chroma collection name",
    attempt: (name) =>
      chroma.upsert(name, { ids: ["x"], embeddings: [[0.1, 0.2, 0.3]], documents: ["x"], metadatas: [{}] }),
  },
];

/** Tries `name` at `position`: true when it was refused with an error naming it as the kind of name it is. */
async function refused(p: Position, name: string): Promise<boolean> {
  attempts += 1;
  try {
    await p.attempt(name);
  } catch (error) {
    const message = (error as Error).message;
    expect(message, `${p.position}: ${JSON.stringify(name)}`).toContain(`invalid ${p.kind} '${shown(name)}'`);
    return true;
  }
  accepted += 1;
  return false;
}

describe("names that reach Cypher", () => {
  it("are refused in every position, naming the name, and Neo4j is untouched", async () => {
    // The positions work with plain names: what is refused below is the name, nothing else.
    await mergeNodes(neo4j, Other, "id", [row()]);
    await mergeNodes(neo4j, Item, "id", [row()]);
    expect((await mergeRelationships(neo4j, LINK, start, end, [link()])).written).toBe(1);
    await runInBatches(neo4j, `MATCH (n:${Item}) DETACH DELETE n`);

    const notRefused: string[] = [];
    for (const p of graphPositions) {
      for (const name of hostile) {
        if (!(await refused(p, name))) notRefused.push(`${p.position}: ${JSON.stringify(name)}`);
      }
    }
    expect(notRefused).toEqual([]);

    expect(await count(`MATCH (s:${Sentinel} {id: "sentinel", kept: true}) RETURN count(s)`)).toBe(1);
    expect(await count(`MATCH (n:${Item}) RETURN count(n)`)).toBe(0);
    expect(await count(`MATCH ()-[r:${LINK}]->() RETURN count(r)`)).toBe(0);
    const created = [...await schemaNames()].filter((name) => !namesBefore.has(name));
    expect(created.filter((name) => hostile.includes(name) || name.includes(Admin) || /[^\x20-\x7e]/.test(name)))
      .toEqual([]);
  });
});

describe("names that reach Chroma", () => {
  it("collection names and metadata fields are refused, naming them, and Chroma is untouched", async () => {
    const notRefused: string[] = [];
    for (const p of chromaPositions) {
      for (const name of hostileCollections) {
        if (!(await refused(p, name))) notRefused.push(`${p.position}: ${JSON.stringify(name)}`);
      }
    }
    for (const field of hostileFields) {
      attempts += 1;
      const upsert = chroma.upsert(itemCollection, {
        ids: ["ok", "bad"],
        embeddings: [[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]],
        documents: ["ok", "bad"],
        metadatas: [{ fine: 1 }, { fine: 2, [field]: "x" }],
      });
      const error = await upsert.then(() => undefined, (e: unknown) => e);
      if (!(error instanceof ChromaMetadataError)) {
        accepted += 1;
        notRefused.push(`metadata field: ${JSON.stringify(field)}`);
        continue;
      }
      expect(error.message).toContain(`record 'bad': metadata field '${shown(field)}' is no valid name`);
      expect(error).toMatchObject({ collection: itemCollection, id: "bad" });
    }
    expect(notRefused).toEqual([]);

    const sentinel = await (await chroma.collection(sentinelCollection)).get({ include: ["metadatas", "documents"] });
    expect(sentinel).toMatchObject({ ids: ["s"], documents: ["sentinel"], metadatas: [{ kept: "yes" }] });
    expect(await (await chroma.collection(itemCollection)).count()).toBe(0);
    const collections = (await chroma.client.listCollections({ limit: 100_000 })).map((c) => c.name);
    expect(collections.filter((name) => hostileCollections.includes(name) || name === "Item")).toEqual([]);
  });
});

/**
 * A source that gains a field: under `evolve` it is kept on the staged records and so reaches the graph's
 * properties and the collection's metadata; under `freeze` its records are dead-lettered.
 */
function driftProject(contract: SchemaContract, file: string) {
  const Model = z.object({ itemId: z.string(), name: z.string() });
  type Row = z.infer<typeof Model>;
  const key = (name: string) => `sec_drift_${id}_${contract}/${name}`;
  const items = defineStagedAsset<Row>({
    key: key("items"),
    codeVersion: "1",
    table: `sec_drift_${id}_${contract}`,
    source: file,
    model: Model,
    sourceKey: (r) => r.itemId,
    rawKey: (r) => r.itemId,
    schema: contract,
    retry: { maxAttempts: 1 },
    async *extract() {
      for await (const line of readJsonLines(file)) yield isBadRow(line) ? line : line.value;
    },
  });
  const nodes = defineNodeAsset<Row>({
    key: key("Item"),
    codeVersion: "1",
    label: `SecDrift_${id}`,
    keyProperty: "itemId",
    from: items,
    retry: { maxAttempts: 1 },
    properties: (r) => ({ ...r }),
  });
  const vectors = defineCollectionAsset<Row>({
    key: key("vectors"),
    codeVersion: "1",
    collection: `sec-drift-${id}`,
    from: items,
    retry: { maxAttempts: 1 },
    document: (r) => r.name,
    metadata: (r) => ({ ...r }),
  });
  const graph = buildAssetGraph({
    assets: contract === "evolve" ? [items, nodes, vectors] : [items, nodes],
    resources: {
      staging: defineResource({
        setup: () => new Staging(createPool(databaseUrl)),
        teardown: (s) => s.close(),
      }),
      neo4j: defineResource({ setup: () => connectNeo4j(), teardown: (d) => d.close() }),
      chroma: defineResource({ setup: () => chroma }),
      embedder: embedderResource(),
    },
  });
  const run = async () => {
    const { run, steps } = await materialize(env.pool, graph, graph.order);
    const step = (name: string) => steps.find((s) => s.assetKey === key(name));
    return { run, staged: step("items"), nodes: step("Item"), vectors: step("vectors") };
  };
  return { key, run };
}

const driftNodes = async () =>
  (await neo4j.executeQuery(`MATCH (n:SecDrift_${id}) RETURN n ORDER BY n.itemId`)).records.map((r) => {
    const { ingestRunId: _r, ingestContentHash: _h, ingestSourceKey: _k, ingestAsset: _a, ingestSource: _s, ...props } =
      r.get("n").properties;
    return props;
  });

describe("keys that come from source data (schema drift)", () => {
  const file = join(folder, "items.jsonl");
  const write = (extra: Record<string, unknown> = {}) =>
    writeFileSync(
      file,
      [{ itemId: "i1", name: "one" }, { itemId: "i2", name: "two", ...extra }, { itemId: "i3", name: "three" }]
        .map((r) => JSON.stringify(r)).join("\n"),
    );

  it("under evolve: a new field of a hostile name is refused at the write, naming it and the record; nothing is written", async () => {
    write();
    const p = driftProject("evolve", file);
    expect((await p.run()).run.status).toBe("succeeded");
    const before = await driftNodes();
    expect(before).toEqual([{ itemId: "i1", name: "one" }, { itemId: "i2", name: "two" }, {
      itemId: "i3",
      name: "three",
    }]);
    const documents = async () =>
      (await (await chroma.collection(`sec-drift-${id}`)).get({ include: ["metadatas"] })).metadatas;
    const metadataBefore = await documents();

    const notRefused: string[] = [];
    // Not the empty name (no JSON source has it as a new field of note) nor NUL, which Postgres cannot store in a
    // known field's name: staging itself fails on it, before any name reaches a store.
    const drifting = hostile.filter((name) => name !== "" && !name.includes("\u0000"));
    for (const name of drifting) {
      attempts += 1;
      driftAttempts += 1;
      write({ [name]: "drifted" });
      const { run, staged, nodes, vectors } = await p.run();
      // Staged as evolve says; the graph and the collection refuse the key.
      expect(staged?.status, staged?.error ?? "").toBe("succeeded");
      expect(run.status).toBe("failed");
      if (nodes?.status !== "failed") {
        accepted += 1;
        notRefused.push(JSON.stringify(name));
        continue;
      }
      expect(nodes.error).toContain(`row 0 (key "i2") has an invalid property key '${shown(name)}'`);
      expect(vectors?.error).toContain(`record 'i2': metadata field '${shown(name)}' is no valid name`);
    }
    expect(notRefused).toEqual([]);
    expect(await driftNodes()).toEqual(before);
    expect(await documents()).toEqual(metadataBefore);
    expect(await count(`MATCH (s:${Sentinel} {id: "sentinel", kept: true}) RETURN count(s)`)).toBe(1);

    // The field gone from the source, the pipeline runs again.
    write();
    expect((await p.run()).run.status).toBe("succeeded");
    expect(await driftNodes()).toEqual(before);
  });

  it("under freeze: each record with the new field is dead-lettered (its node goes), the others load", async () => {
    write();
    const p = driftProject("freeze", file);
    expect((await p.run()).run.status).toBe("succeeded");
    const name = hostile[9]!; // the key that once deleted the sentinel
    write({ [name]: "drifted" });
    const { run } = await p.run();
    expect(run.status).toBe("succeeded");
    const { rows } = await env.pool.query(
      "select source_key, reason, issues from ingest.dead_letters where run_id = $1 order by id",
      [run.id],
    );
    expect(rows).toEqual([{
      source_key: "i2",
      reason: "schema",
      issues: [{ path: name, message: "a field the source did not have before (the asset's schema is frozen)" }],
    }]);
    // The record is no longer staged, so what was built from it goes, as for a record the model refuses.
    expect(await driftNodes()).toEqual([{ itemId: "i1", name: "one" }, { itemId: "i3", name: "three" }]);
    expect(await count(`MATCH (s:${Sentinel} {id: "sentinel", kept: true}) RETURN count(s)`)).toBe(1);
  });
});

afterAll(() => {
  expect(accepted).toBe(0);
  recordFigure(
    "identifier injections accepted",
    accepted,
    "attempts",
    "<= 0",
    `${attempts} attempts: ${hostile.length} hostile names in ${graphPositions.length} Cypher positions, ${hostileCollections.length} collection names in ${chromaPositions.length} Chroma positions, ${hostileFields.length} metadata fields, ${driftAttempts} schema-drift fields through a staged asset under evolve`,
  );
});
