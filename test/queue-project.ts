import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { defineAsset } from "../engine/asset.ts";
import { defineDefinitions, type Definitions } from "../engine/definitions.ts";
import { connectChroma, defineCollectionAsset } from "../connectors/chroma/index.ts";
import {
  connectNeo4j,
  defineNodeAsset,
  defineRelationshipAsset,
  ensureUniqueKey,
  mergeNodes,
} from "../connectors/neo4j/index.ts";
import { defineStagedAsset, Staging } from "../connectors/staging/index.ts";
import { defineResource } from "../engine/resource.ts";
import { Contact, contactKey } from "../assets/crm/models.ts";
import { CrmClient } from "../connectors/crm-api/index.ts";
import { loadEmbedder } from "../resources/embedder.ts";
import { createPool } from "../resources/postgres.ts";
import { packageRoot, settings } from "../resources/settings.ts";

/**
 * A gate in a folder that test assets wait at while the test holds it closed: each asset that
 * reaches it leaves a file naming its process and the time, so the test knows who got there when.
 */
export const gate = {
  close(dir: string, name: string) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.closed`), "");
  },
  open(dir: string, name: string) {
    rmSync(join(dir, `${name}.closed`), { force: true });
  },
  /** Who reached the gate: process id and time, in order. */
  reached(dir: string, name: string): { pid: number; at: number }[] {
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.startsWith(`${name}.reached.`))
      .map((f) => ({ pid: Number(f.split(".").at(-1)), at: Number(readFileSync(join(dir, f), "utf8")) }))
      .sort((a, b) => a.at - b.at);
  },
  /** Whether an asset waiting at the gate was told to stop. */
  aborted(dir: string, name: string): boolean {
    return existsSync(dir) && readdirSync(dir).some((f) => f.startsWith(`${name}.aborted.`));
  },
  /** Waits while the gate is closed; a materialisation told to stop (ctx.signal) throws its reason. */
  async pass(dir: string, name: string, signal: AbortSignal) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${name}.reached.${process.pid}`), String(Date.now()));
    while (existsSync(join(dir, `${name}.closed`))) {
      if (signal.aborted) {
        writeFileSync(join(dir, `${name}.aborted.${process.pid}`), String(Date.now()));
        throw signal.reason;
      }
      await sleep(50);
    }
  },
};

const Item = z.object({
  itemId: z.string(),
  name: z.string(),
  description: z.string(),
  tag: z.string(),
  price: z.number(),
  stock: z.number().int(),
});
type Item = z.infer<typeof Item>;

/** `n` items, the same each time: a fixed catalogue of any size. */
const itemsOf = (n: number): Item[] =>
  Array.from({ length: n }, (_, i) => ({
    itemId: `I${String(i).padStart(n > 1_000 ? 6 : 3, "0")}`,
    name: `Item ${i}`,
    description: [
      "a sturdy steel kettle",
      "noise cancelling headphones",
      "a paperback novel",
      "running shoes",
      "a ceramic mug",
    ][i % 5]! + ` no. ${i}`,
    tag: `T${i % 6}`,
    price: Math.round(i * 137.5) / 100,
    stock: (i * 7) % 23,
  }));

/**
 * A small project writing to Neo4j and Chroma under names unique to `prefix`: items staged from a
 * fixed list, `(:<P>Item)` nodes, `(:<P>Tag)` nodes written in two halves by an asset that waits at
 * the gate `tags` in between, `(:<P>Item)-[:<P>_TAGGED]->(:<P>Tag)`, and the collection `<prefix>-items`;
 * 40 items unless told (a fault test gives enough for a step to be caught in the middle).
 */
export function livenessDefinitions(prefix: string, gateDir: string, { items: n = 40 } = {}): Definitions {
  const items = itemsOf(n);
  const label = (name: string) => `LivenessTest_${prefix}_${name}`;
  const staged = defineStagedAsset<Item>({
    key: `${prefix}/items`,
    table: `${prefix}_items`,
    source: "liveness.items",
    codeVersion: "1",
    model: Item,
    sourceKey: (item) => item.itemId,
    rawKey: (raw) => raw.itemId,
    // A gate before the records are read: the staging table exists by then, its merge not begun.
    async extract({ signal }) {
      await gate.pass(gateDir, "extract", signal);
      return items;
    },
  });
  const itemNodes = defineNodeAsset<Item>({
    key: `${prefix}/Item`,
    codeVersion: "1",
    label: label("Item"),
    keyProperty: "itemId",
    integers: ["stock"],
    from: staged,
    properties: (item) => ({ itemId: item.itemId, name: item.name, price: item.price, stock: item.stock }),
  });
  const tagNodes = defineAsset<{ neo4j: ReturnType<typeof connectNeo4j> }>({
    key: `${prefix}/Tag`,
    deps: [staged.key],
    resources: ["neo4j"],
    target: { kind: "neo4j-nodes", label: label("Tag"), keyProperty: "tag" },
    codeVersion: "1",
    retry: { maxAttempts: 3, initialDelayMs: 200 },
    async materialize({ resources: { neo4j }, runId, assetKey, signal }) {
      const tags = [...new Set(items.map((i) => i.tag))].sort();
      const rows = tags.map((tag) => ({
        key: tag,
        props: {
          name: `tag ${tag}`,
          items: items.filter((i) => i.tag === tag).length,
          ingestRunId: runId,
          ingestAsset: assetKey,
        },
      }));
      await ensureUniqueKey(neo4j, label("Tag"), "tag");
      await mergeNodes(neo4j, label("Tag"), "tag", rows.slice(0, 3), { integers: ["items"] });
      await gate.pass(gateDir, "tags", signal);
      await mergeNodes(neo4j, label("Tag"), "tag", rows.slice(3), { integers: ["items"] });
      return { counts: { loaded: rows.length }, dataVersion: `tags-${tags.length}` };
    },
  });
  const tagged = defineRelationshipAsset<Item>({
    key: `${prefix}/TAGGED`,
    codeVersion: "1",
    type: `${prefix}_TAGGED`,
    from: staged,
    start: { node: itemNodes, value: (item) => item.itemId },
    end: { node: tagNodes, value: (item) => item.tag },
    properties: () => ({ since: 2026 }),
  });
  const collection = defineCollectionAsset<Item>({
    key: `${prefix}/item_vectors`,
    codeVersion: "1",
    collection: `${prefix}-items`,
    from: staged,
    document: (item) => `${item.name}: ${item.description}`,
    metadata: (item) => ({ tag: item.tag, price: item.price }),
  });
  return defineDefinitions({
    assets: [staged, itemNodes, tagNodes, tagged, collection],
    resources: {
      staging: defineResource({
        setup: () => new Staging(createPool(settings().databaseUrl)),
        teardown: (staging) => staging.close(),
      }),
      neo4j: defineResource({ setup: () => connectNeo4j(), teardown: (driver) => driver.close() }),
      chroma: defineResource({ setup: () => connectChroma() }),
      embedder: defineResource({ setup: () => loadEmbedder(), teardown: (embedder) => embedder.close() }),
    },
  });
}

/** Two assets and nothing else: `<prefix>/slow`, which waits at the gate `slow`, and `<prefix>/after`, downstream of it. */
export function gatedDefinitions(prefix: string, gateDir: string): Definitions {
  const slow = defineAsset({
    key: `${prefix}/slow`,
    codeVersion: "1",
    async materialize({ signal }) {
      await gate.pass(gateDir, "slow", signal);
      return { counts: { loaded: 1 }, dataVersion: "slow-1" };
    },
  });
  const after = defineAsset({
    key: `${prefix}/after`,
    deps: [slow.key],
    codeVersion: "1",
    materialize: async () => ({ counts: { loaded: 1 }, dataVersion: "after-1" }),
  });
  return defineDefinitions({ assets: [slow, after], resources: {} });
}

/** A definitions module for `ingest --definitions`, calling one of the factories above. */
export function writeDefinitionsModule(
  dir: string,
  factory: "livenessDefinitions" | "gatedDefinitions" | "crmDefinitions",
  prefix: string,
  gateDir: string,
  options: Record<string, unknown> = {},
): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${prefix}.definitions.ts`);
  writeFileSync(
    file,
    `import { ${factory} } from ${
      JSON.stringify(join(packageRoot, "test", "queue-project.ts"))
    };\nexport default ${factory}(${JSON.stringify(prefix)}, ${JSON.stringify(gateDir)}, ${
      JSON.stringify(options)
    });\n`,
  );
  return file;
}

/** Fails with `what` when the promise takes longer than `ms`. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((
    _,
    reject,
  ) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1000} s`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until the check holds, failing with `what` after `ms`. */
export async function until(what: string, ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await sleep(100);
  }
}

/**
 * The sample CRM's contacts, read from its REST API (the local stack's `crm-api`) into a staging table of
 * `prefix` and written as `(:LivenessTest_<prefix>_Contact)` nodes: a project whose source can be taken away.
 */
export function crmDefinitions(prefix: string): Definitions {
  const staged = defineStagedAsset<Contact, { crm: CrmClient }>({
    key: `${prefix}/contacts`,
    table: `${prefix}_contacts`,
    source: "crm.api.contacts",
    codeVersion: "1",
    model: Contact,
    sourceKey: contactKey,
    rawKey: (object) => object.id,
    resources: ["crm"],
    extract: ({ resources: { crm } }) => crm.objects("contacts"),
  });
  const contacts = defineNodeAsset<Contact>({
    key: `${prefix}/Contact`,
    codeVersion: "1",
    label: `LivenessTest_${prefix}_Contact`,
    keyProperty: "contactId",
    from: staged,
    properties: (c) => ({ ...c }),
  });
  return defineDefinitions({
    assets: [staged, contacts],
    resources: {
      staging: defineResource({
        setup: () => new Staging(createPool(settings().databaseUrl)),
        teardown: (staging) => staging.close(),
      }),
      neo4j: defineResource({ setup: () => connectNeo4j(), teardown: (driver) => driver.close() }),
      crm: defineResource({
        setup: () => {
          const { url, clientId, clientSecret } = settings().crm;
          return new CrmClient({ baseUrl: url, clientId, clientSecret: clientSecret ?? "" });
        },
      }),
    },
  });
}
