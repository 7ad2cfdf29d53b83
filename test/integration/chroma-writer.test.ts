import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ChromaMetadataError,
  type ChromaResource,
  connectChroma,
  type MetadataInput,
} from "../../connectors/chroma/index.ts";
import { type Embedder, loadEmbedder } from "../../resources/embedder.ts";

const id = randomUUID().slice(0, 8);
const names: string[] = [];
const scratch = (what: string) => {
  const name = `chroma_writer_${id}_${what}`;
  names.push(name);
  return name;
};
const vector = (i: number) => Array.from({ length: 8 }, (_, k) => Math.sin(i * 8 + k));
const records = (n: number, from = 0) => {
  const ids = Array.from({ length: n }, (_, i) => `r${from + i}`);
  return {
    ids,
    embeddings: ids.map((_, i) => vector(from + i)),
    documents: ids.map((r) => `document ${r}`),
    metadatas: ids.map((_, i): MetadataInput => ({ n: from + i })),
  };
};
const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);

let chroma: ChromaResource;
let embedder: Embedder;

beforeAll(async () => {
  chroma = await connectChroma();
  embedder = await loadEmbedder();
});
afterAll(async () => {
  for (const name of names) await chroma?.drop(name);
  await embedder?.close();
});

describe("Chroma writer", () => {
  it("upserts more records than the server takes in one request, in batches within its maximum", async () => {
    expect(chroma.batchSize).toBeLessThanOrEqual(chroma.maxBatchSize);
    const name = scratch("many");
    const n = chroma.maxBatchSize + 7;
    expect(await chroma.upsert(name, records(n))).toBe(n);
    const collection = await chroma.collection(name);
    expect(await collection.count()).toBe(n);
    const last = await collection.get({ ids: [`r${n - 1}`], include: ["documents", "metadatas"] });
    expect(last.documents).toEqual([`document r${n - 1}`]);
    expect(last.metadatas).toEqual([{ n: n - 1 }]);
  }, 120_000);

  it.each([
    ["an object", { nested: { a: 1 } }, "nested", "an object"],
    ["an array", { tags: ["a", "b"] }, "tags", "an array"],
    ["a Date", { createdAt: new Date(0) }, "createdAt", "a Date"],
    ["NaN", { price: Number.NaN }, "price", "is NaN"],
    ["Infinity", { price: Number.POSITIVE_INFINITY }, "price", "is Infinity"],
    ["a bigint", { big: 10n }, "big", "a bigint"],
  ])(
    "rejects metadata holding %s, naming the collection, record and field, and writes nothing",
    async (_, bad, field, detail) => {
      const name = scratch("invalid");
      const batch = records(3);
      batch.metadatas[2] = { ok: "yes", ...(bad as unknown as MetadataInput) };
      const error = await chroma.upsert(name, batch).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChromaMetadataError);
      expect((error as ChromaMetadataError).message).toContain(
        `collection '${name}', record 'r2': metadata field '${field}'`,
      );
      expect((error as ChromaMetadataError).message).toContain(detail);
      expect({ ...(error as ChromaMetadataError) }).toMatchObject({ collection: name, id: "r2", field });
      expect(await (await chroma.collection(name)).count()).toBe(0);
    },
  );

  it("leaves null and undefined metadata out, and takes a record with no metadata left", async () => {
    const name = scratch("nulls");
    const batch = records(2);
    batch.metadatas = [{ kept: "x", gone: null, absent: undefined }, { gone: null }];
    await chroma.upsert(name, batch);
    const got = await (await chroma.collection(name)).get({ ids: ["r0", "r1"], include: ["metadatas"] });
    expect(got.metadatas).toEqual([{ kept: "x" }, null]);
  });

  it("rejects an upsert whose lists disagree or whose ids repeat", async () => {
    const name = scratch("shape");
    const batch = records(3);
    await expect(chroma.upsert(name, { ...batch, documents: batch.documents.slice(1) })).rejects.toThrow(
      `collection '${name}': 3 ids but 2 documents`,
    );
    await expect(chroma.upsert(name, { ...batch, ids: ["a", "b", "a"] })).rejects.toThrow("id 'a' comes twice");
  });

  it("deletes exactly the ids given, in batches, ignoring ids it does not hold", async () => {
    const name = scratch("delete");
    const n = chroma.batchSize * 2 + 5;
    await chroma.upsert(name, records(n));
    const gone = records(n).ids.filter((_, i) => i % 2 === 0);
    expect(await chroma.delete(name, [...gone, "never-there"])).toBe(gone.length + 1);
    const left = await (await chroma.collection(name)).get({ include: [], limit: n });
    expect(new Set(left.ids)).toEqual(new Set(records(n).ids.filter((_, i) => i % 2 === 1)));
  });
});

describe("embedder", () => {
  it("gives identical texts identical vectors, in input order, of unit length", async () => {
    const texts = [
      "wireless noise-cancelling headphones",
      "cast iron frying pan",
      "wireless noise-cancelling headphones",
    ];
    const [a, pan, again] = await embedder.embed(texts);
    expect(a).toHaveLength(embedder.dimensions);
    expect(again).toEqual(a);
    expect(dot(a!, a!)).toBeCloseTo(1, 5);
    const [panAlone] = await embedder.embed(["cast iron frying pan"]);
    // q8 quantises activations per batch, so one text's vector moves a little with its batch-mates.
    expect(dot(panAlone!, pan!)).toBeGreaterThan(0.95);
  });

  it("puts similar texts closer than dissimilar ones", async () => {
    const [headphones, earbuds, pan] = await embedder.embed([
      "wireless noise-cancelling headphones",
      "bluetooth earbuds that block out noise",
      "cast iron frying pan",
    ]);
    expect(dot(headphones!, earbuds!)).toBeGreaterThan(dot(headphones!, pan!) + 0.2);
  });

  it("cuts texts at 256 tokens", async () => {
    const long = "the kettle boils quickly and quietly ".repeat(80);
    const [cut, longer] = await embedder.embed([long, `${long} but the lid broke after a week and the handle melted`]);
    expect(embedder.maxTokens).toBe(256);
    expect(longer).toEqual(cut);
  });

  it("embeds the same in worker threads as on the calling thread", async () => {
    const texts = Array.from(
      { length: 40 },
      (_, i) => `review ${i}: ${i % 2 ? "great sound" : "battery died"} after ${i} days`,
    );
    const inProcess = await loadEmbedder({
      workers: 0,
      threads: 1,
      dtype: embedder.dtype,
      batchSize: embedder.batchSize,
    });
    const inWorkers = await loadEmbedder({
      workers: 2,
      threads: 2,
      dtype: embedder.dtype,
      batchSize: embedder.batchSize,
    });
    try {
      const [a, b] = await Promise.all([inProcess.embed(texts), inWorkers.embed(texts)]);
      for (let i = 0; i < texts.length; i++) expect(dot(a[i]!, b[i]!)).toBeGreaterThan(0.9999);
    } finally {
      await Promise.all([inProcess.close(), inWorkers.close()]);
    }
  });
});
