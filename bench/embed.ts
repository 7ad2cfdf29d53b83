import { env, type FeatureExtractionPipeline, pipeline } from "@huggingface/transformers";
import { z } from "zod";
import { buildAssetGraph } from "../engine/asset-graph.ts";
import { defineDefinitions } from "../engine/definitions.ts";
import { connectChroma, defineCollectionAsset } from "../connectors/chroma/index.ts";
import { defineStagedAsset, Staging } from "../connectors/staging/index.ts";
import { runInProcess } from "../engine/runs.ts";
import { defineResource } from "../engine/resource.ts";
import { prepareDatabase } from "../engine/worker.ts";
import { embeddingDtype, embeddingThreads, loadEmbedder } from "../resources/embedder.ts";
import { createPool } from "../resources/postgres.ts";
import { settings } from "../resources/settings.ts";
import { createWorld } from "../samples/generate/index.ts";
import { reviewRow } from "../samples/generate/shop/reviews.ts";
import { type BenchResult, result } from "./report.ts";

const documents = Number(process.env.EMBED_BENCH_DOCS ?? 20_000);
const rounds = Number(process.env.EMBED_BENCH_ROUNDS ?? 2);
const changedShare = 0.01;
const batchSize = 16;
const threads = embeddingThreads();
const dtype = embeddingDtype();
const modelId = "sentence-transformers/all-MiniLM-L6-v2";
const log = (message: string) => console.log(`embed: ${message}`);

const Doc = z.object({ docId: z.string(), text: z.string(), rating: z.number().int() });
type Doc = z.infer<typeof Doc>;

/** Review documents from the sample generator, every one distinct (a repeated text is embedded once, which would flatter us). */
function reviewDocuments(count: number): Doc[] {
  const world = createWorld(count * 8, 7);
  const review = (r: number) => reviewRow(world, r % world.sizes.reviews);
  const seen = new Set<string>();
  return Array.from({ length: count }, (_, i) => {
    const row = review(i);
    let text = `${row[4]}. ${row[5]}`;
    // A third are two reviews' worth, so lengths vary as real ones do.
    if (i % 3 === 0) text += ` ${review(count + i)[5]}`;
    for (let k = 1; seen.has(text); k++) text += ` ${review(2 * count + i * 7 + k)[5]}`;
    seen.add(text);
    return { docId: `doc${String(i).padStart(6, "0")}`, text, rating: Number(row[3]) };
  });
}

/** The reference: the bare transformers.js call a user would write, over the same texts, batch size, threads and dtype. */
async function bare(texts: string[]): Promise<number> {
  env.localModelPath = settings().modelPath;
  env.allowRemoteModels = false;
  const extractor: FeatureExtractionPipeline = await pipeline("feature-extraction", modelId, {
    dtype,
    session_options: { intraOpNumThreads: threads },
  });
  await extractor(texts.slice(0, batchSize), { pooling: "mean", normalize: true });
  const started = performance.now();
  for (let start = 0; start < texts.length; start += batchSize) {
    const output = await extractor(texts.slice(start, start + batchSize), { pooling: "mean", normalize: true });
    output.tolist();
  }
  const elapsed = performance.now() - started;
  await extractor.dispose();
  return elapsed;
}

/** A staged asset over an in-memory source and a collection asset over it, with scratch names of their own. */
function scratchGraph(prefix: string, source: { docs: Doc[] }) {
  const staged = defineStagedAsset<Doc>({
    key: `${prefix}/docs`,
    codeVersion: "1",
    table: `${prefix}_docs`,
    source: "bench.docs",
    model: Doc,
    sourceKey: (d) => d.docId,
    rawKey: (d) => d.docId,
    extract: async () => source.docs,
  });
  const vectors = defineCollectionAsset<Doc>({
    key: `${prefix}/vectors`,
    codeVersion: "1",
    collection: `${prefix}_vectors`,
    from: staged,
    document: (d) => d.text,
    metadata: (d) => ({ rating: d.rating }),
  });
  return buildAssetGraph(
    defineDefinitions({
      assets: [staged, vectors],
      resources: {
        staging: defineResource({
          setup: () => new Staging(createPool(settings().databaseUrl)),
          teardown: (s) => s.close(),
        }),
        chroma: defineResource({ setup: () => connectChroma() }),
        embedder: defineResource({
          setup: () => loadEmbedder({ dtype, batchSize, threads }),
          teardown: (e) => e.close(),
        }),
      },
    }),
  );
}

export async function embedBench(): Promise<BenchResult[]> {
  const pool = createPool(settings().databaseUrl);
  await prepareDatabase(pool);
  const chroma = await connectChroma();
  const docs = reviewDocuments(documents);
  const texts = docs.map((d) => d.text);
  const changed = Math.round(documents * changedShare);
  const stamp = `bench_embed_${Date.now().toString(36)}`;
  const prefixes: string[] = [];
  const times = { bare: [] as number[], full: [] as number[], rerun: [] as number[] };

  /** One run of the whole graph; the collection asset's counts from the metadata store. */
  const materialize = async (graph: ReturnType<typeof scratchGraph>, prefix: string) => {
    const started = performance.now();
    const { run } = await runInProcess(pool, graph, { selection: `${prefix}/*`, keys: graph.order }, {
      concurrency: 2,
      pollIntervalMs: 100,
    });
    const elapsed = performance.now() - started;
    if (run.status !== "succeeded") throw new Error(`run ${run.id} ${run.status}: ${run.error}`);
    const { rows } = await pool.query(
      "select counts from ingest.materializations where run_id = $1 and asset_key = $2",
      [run.id, `${prefix}/vectors`],
    );
    return { elapsed, counts: rows[0]?.counts as Record<string, number> };
  };

  try {
    // Bare first and ours after, each round: neither always gets the quieter minute on a shared machine.
    for (let round = 0; round < rounds; round++) {
      const prefix = `${stamp}_${round}`;
      prefixes.push(prefix);
      times.bare.push(await bare(texts));
      log(`round ${round}: bare ${(documents / (times.bare.at(-1)! / 1000)).toFixed(0)} docs/s`);
      const source = { docs };
      const graph = scratchGraph(prefix, source);
      const full = await materialize(graph, prefix);
      if (full.counts?.embedded !== documents) {
        throw new Error(`the full run embedded ${full.counts?.embedded}, not ${documents}`);
      }
      times.full.push(full.elapsed);
      source.docs = docs.map((
        d,
        i,
      ) => (i % Math.round(1 / changedShare) === 0 ? { ...d, text: `${d.text} (edited)` } : d));
      const rerun = await materialize(graph, prefix);
      if (rerun.counts?.embedded !== changed) {
        throw new Error(`the re-run embedded ${rerun.counts?.embedded} documents, not the ${changed} that changed`);
      }
      times.rerun.push(rerun.elapsed);
      log(
        `round ${round}: ours ${(documents / (full.elapsed / 1000)).toFixed(0)} docs/s; re-run of ${changed} changed ${
          (rerun.elapsed / 1000).toFixed(1)
        } s (${(rerun.elapsed / full.elapsed).toFixed(3)} of the full run)`,
      );
    }
  } finally {
    for (const prefix of prefixes) {
      await chroma.drop(`${prefix}_vectors`);
      await pool.query(`drop table if exists staging.${prefix}_docs`);
      await pool.query("delete from staging.tables where name = $1", [`${prefix}_docs`]).catch(() => {});
      await pool.query("delete from staging.load_cursors where consumer like $1", [`${prefix}/%`]).catch(() => {});
    }
    await pool.end();
  }
  const best = (xs: number[]) => Math.min(...xs);
  const setup = `${documents} review documents, ${dtype}, batch ${batchSize}, ${threads} threads, best of ${rounds}`;
  return [
    result(
      "embedding throughput through the pipeline (staged + collection asset, Postgres + Chroma)",
      documents / (best(times.full) / 1000),
      documents / (best(times.bare) / 1000),
      "docs/s",
      ">= 0.9",
      `${setup}; reference: transformers.js pipeline("feature-extraction") over the same texts, in process`,
    ),
    result(
      `re-run with ${changed} of ${documents} documents changed (embeds exactly those), time against the full run`,
      best(times.rerun) / 1000,
      best(times.full) / 1000,
      "s",
      "<= 0.1",
      setup,
    ),
  ];
}
