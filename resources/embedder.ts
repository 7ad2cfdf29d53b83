import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { env, type FeatureExtractionPipeline, pipeline, type Tensor } from "@huggingface/transformers";
import { settings } from "./settings.ts";
import { metrics } from "./metrics.ts";

/** The model weights' precision: `q8` (8-bit quantised, the default: faster) or `fp32` (full precision). */
export type EmbeddingDtype = "q8" | "fp32";

/** q8 by default (`EMBEDDING_DTYPE`): here it takes 2.2x less CPU per text than fp32, at a median cosine of 0.989 to it (README, "Embedding"). */
export function embeddingDtype(): EmbeddingDtype {
  const dtype = process.env.EMBEDDING_DTYPE ?? "q8";
  if (dtype !== "q8" && dtype !== "fp32") throw new Error(`EMBEDDING_DTYPE must be 'q8' or 'fp32', not '${dtype}'`);
  return dtype;
}

function positiveInteger(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, not '${raw}'`);
  return value;
}

/** CPU threads given to embedding (`EMBEDDING_THREADS`), by default one per core. */
export function embeddingThreads(): number {
  return positiveInteger("EMBEDDING_THREADS", availableParallelism());
}

/**
 * A sentence embedding model, loaded: what collection assets embed their documents with. Made by
 * `loadEmbedder`, or by `embedderResource()` for assets.
 */
export interface Embedder {
  /** The model's id, e.g. `sentence-transformers/all-MiniLM-L6-v2`. */
  readonly modelId: string;
  /** The length of every vector (384 for all-MiniLM-L6-v2). */
  readonly dimensions: number;
  /** The precision the model runs at. */
  readonly dtype: EmbeddingDtype;
  /** Texts per model call. */
  readonly batchSize: number;
  /** Worker threads running a model session each; 0 when the model runs on the calling thread. */
  readonly workers: number;
  /** ONNX Runtime intra-op threads of each session. */
  readonly threadsPerSession: number;
  /** Texts are cut to this many tokens (the model was trained on 256). */
  readonly maxTokens: number;
  /**
   * One unit-length vector per text, in order; identical texts in one call get identical vectors.
   * Calls may overlap (several collection assets in one process): their batches share the workers.
   *
   * @example
   * ```ts
   * const embedder = await loadEmbedder();
   * const [a, b] = await embedder.embed(["wireless headphones", "bluetooth earbuds"]);
   * const cosine = a.reduce((s, x, i) => s + x * b[i], 0);
   * await embedder.close();
   * ```
   */
  embed(texts: string[]): Promise<number[][]>;
  /** Stops the worker threads (or the session); `embed` then throws. Closing twice is harmless. */
  close(): Promise<void>;
}

/** How `loadEmbedder` and `embedderResource` load the model; each option falls back to an environment variable, then a default. */
export interface EmbedderOptions {
  /**
   * The model, a folder under the model path (`EMBEDDING_MODEL_PATH`, else the stack's model folder); default
   * `sentence-transformers/all-MiniLM-L6-v2`. Vectors are mean-pooled and normalised, as that model expects.
   */
  modelId?: string;
  /** `EMBEDDING_DTYPE`, else `q8`: here 2.2x less CPU per text than `fp32`, at a median cosine of 0.989 to it. */
  dtype?: EmbeddingDtype;
  /** Texts per model call; `EMBEDDING_BATCH_SIZE`, else 16 (measured: README, "Embedding"). */
  batchSize?: number;
  /** CPU threads to embed with; `EMBEDDING_THREADS`, else one per core. */
  threads?: number;
  /**
   * Worker threads, each with its own session of `threads / workers` intra-op threads; 0 runs the
   * model on the calling thread with `threads` intra-op threads. `EMBEDDING_WORKERS`, else `threads`
   * (under Deno, 0).
   */
  workers?: number;
  /** Texts are cut to this many tokens (default 256, what the model was trained on). */
  maxTokens?: number;
  /**
   * Let transformers.js download the model from the Hugging Face hub when it is not in the local folder;
   * `EMBEDDING_ALLOW_REMOTE=1`, else false.
   */
  allowRemote?: boolean;
}

interface SessionOptions {
  modelPath: string;
  modelId: string;
  dtype: EmbeddingDtype;
  threads: number;
  maxTokens: number;
  allowRemote: boolean;
}

interface Session {
  dimensions: number;
  /** Unit vectors, row-major. */
  embedBatch(texts: string[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

/** Mean of the unmasked token vectors, normalised to unit length (all-MiniLM-L6-v2's pooling). */
function meanPooled(hidden: Tensor, mask: Tensor): Float32Array {
  const [rows, tokens, width] = hidden.dims as [number, number, number];
  const data = hidden.data as Float32Array;
  const attended = mask.data as BigInt64Array;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const row = out.subarray(r * width, (r + 1) * width);
    let count = 0;
    for (let t = 0; t < tokens; t++) {
      if (attended[r * tokens + t] === 0n) continue;
      count += 1;
      const offset = (r * tokens + t) * width;
      for (let k = 0; k < width; k++) row[k]! += data[offset + k]!;
    }
    let norm = 0;
    for (let k = 0; k < width; k++) norm += row[k]! * row[k]!;
    norm = Math.sqrt(norm) || 1;
    for (let k = 0; k < width; k++) row[k]! /= norm;
  }
  return out;
}

async function openSession(o: SessionOptions): Promise<Session> {
  env.localModelPath = o.modelPath;
  env.allowLocalModels = true;
  env.allowRemoteModels = o.allowRemote;
  const extractor: FeatureExtractionPipeline = await pipeline("feature-extraction", o.modelId, {
    dtype: o.dtype,
    session_options: { intraOpNumThreads: o.threads, interOpNumThreads: 1 },
  });
  const dimensions = (extractor.model.config as unknown as { hidden_size: number }).hidden_size;
  return {
    dimensions,
    async embedBatch(texts) {
      // The pipeline's own call would cut at the tokenizer's 512; the model was trained on 256.
      const inputs = extractor.tokenizer(texts, { padding: true, truncation: true, max_length: o.maxTokens });
      const { last_hidden_state } = await extractor.model(inputs);
      return meanPooled(last_hidden_state, inputs.attention_mask);
    },
    dispose: () => extractor.dispose(),
  };
}

/** Where batches run: the calling thread, or one worker thread. */
interface Lane {
  /** Batches it takes at once: a worker gets its next batch before it finishes the current one. */
  readonly capacity: number;
  run(texts: string[]): Promise<Float32Array>;
  close(): Promise<void>;
}

function inProcessLane(session: Session): Lane {
  return { capacity: 1, run: (texts) => session.embedBatch(texts), close: () => session.dispose() };
}

const workerTag = "ingest-graph embedder";

type Request = { id: number; texts: string[] } | { close: true };
type Reply =
  | { ready: true; dimensions: number }
  | { id: number; vectors: Float32Array }
  | { id: number; error: string }
  | { failed: string };

async function workerLane(
  options: SessionOptions,
  onFailure: (error: Error) => void,
): Promise<Lane & { dimensions: number }> {
  const worker = new Worker(new URL(import.meta.url), { workerData: { tag: workerTag, options } });
  const pending = new Map<number, { resolve(v: Float32Array): void; reject(e: Error): void }>();
  let nextId = 0;
  let closing = false;
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  const fail = (error: Error) => {
    for (const p of pending.values()) p.reject(error);
    pending.clear();
    onFailure(error);
  };
  // deno-lint-ignore no-explicit-any -- node:worker_threads types its listeners' arguments as any
  let loading: Partial<Record<"error" | "exit" | "message", (arg: any) => void>> = {};
  const dimensions = await new Promise<number>((resolve, reject) => {
    loading = {
      error: reject,
      exit: (code: number) => reject(new Error(`the embedding worker exited (code ${code}) while loading the model`)),
      message: (
        m: Reply,
      ) => ("ready" in m ? resolve(m.dimensions) : reject(new Error("failed" in m ? m.failed : "unexpected message"))),
    };
    for (const [event, listener] of Object.entries(loading)) worker.once(event, listener);
  }).finally(() => {
    for (const [event, listener] of Object.entries(loading)) worker.off(event, listener);
  });
  worker.on("message", (m: Reply) => {
    if (!("id" in m)) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
    if ("error" in m) p?.reject(new Error(`embedding failed: ${m.error}`));
    else p?.resolve(m.vectors);
  });
  worker.on("error", (error) => fail(new Error(`the embedding worker failed: ${error.message}`)));
  worker.on("exit", (code) => {
    if (!closing) fail(new Error(`the embedding worker exited (code ${code})`));
  });
  // An idle worker must not keep the process alive; a busy one must, or an awaited batch could be abandoned.
  worker.unref();
  return {
    dimensions,
    capacity: 2,
    run(texts) {
      const id = ++nextId;
      if (pending.size === 0) worker.ref();
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, texts } satisfies Request);
      });
    },
    async close() {
      closing = true;
      worker.postMessage({ close: true } satisfies Request);
      const timeout = setTimeout(() => void worker.terminate(), 10_000);
      await exited;
      clearTimeout(timeout);
    },
  };
}

/** The worker side: one session, batches answered one at a time, vectors transferred without copying. */
async function serveWorker(options: SessionOptions): Promise<void> {
  const port = parentPort!;
  let session: Session;
  try {
    session = await openSession(options);
  } catch (error) {
    port.postMessage({ failed: (error as Error).message } satisfies Reply);
    return;
  }
  let queue = Promise.resolve();
  port.on("message", (m: Request) => {
    queue = queue.then(async () => {
      if ("close" in m) {
        await session.dispose();
        port.close();
        return;
      }
      try {
        const vectors = await session.embedBatch(m.texts);
        port.postMessage({ id: m.id, vectors } satisfies Reply, [vectors.buffer as ArrayBuffer]);
      } catch (error) {
        port.postMessage({ id: m.id, error: (error as Error).message } satisfies Reply);
      }
    });
  });
  port.postMessage({ ready: true, dimensions: session.dimensions } satisfies Reply);
}

if (!isMainThread && workerData?.tag === workerTag) await serveWorker(workerData.options as SessionOptions);

/** In a Deno worker transformers.js takes itself for a browser and loads the WebGPU build, which fails: Deno embeds in process. */
const inDeno = "Deno" in globalThis;

interface Job {
  texts: string[];
  resolve(vectors: Float32Array): void;
  reject(error: Error): void;
}

/**
 * Loads all-MiniLM-L6-v2 (mean pooling, normalised: cosine similarity is a dot product) from the
 * local model folder (it fails when the model is not there, unless `allowRemote`; `ingest stack up`
 * downloads it), in worker threads by default: on a busy 2-core host two single-threaded
 * sessions embed about twice as fast as one session of two threads (which spends 1.7x the CPU per
 * text), and the calling thread stays free for I/O: onnxruntime-node runs a session synchronously
 * on the thread that calls it. (onnxruntime-node before 1.27 could abort in worker threads:
 * microsoft/onnxruntime#24486; this is 1.30.)
 */
export async function loadEmbedder(options: EmbedderOptions = {}): Promise<Embedder> {
  const modelId = options.modelId ?? "sentence-transformers/all-MiniLM-L6-v2";
  const dtype = options.dtype ?? embeddingDtype();
  const batchSize = options.batchSize ?? positiveInteger("EMBEDDING_BATCH_SIZE", 16);
  const threads = options.threads ?? embeddingThreads();
  const workers = options.workers ?? positiveInteger("EMBEDDING_WORKERS", inDeno ? 0 : threads, 0);
  const threadsPerSession = Math.max(1, Math.floor(threads / Math.max(workers, 1)));
  const maxTokens = options.maxTokens ?? 256;
  const sessionOptions: SessionOptions = {
    modelPath: settings().modelPath,
    modelId,
    dtype,
    threads: threadsPerSession,
    maxTokens,
    allowRemote: options.allowRemote ?? process.env.EMBEDDING_ALLOW_REMOTE === "1",
  };

  let failure: Error | undefined;
  const queue: Job[] = [];
  const busy = new Map<Lane, number>();
  const onFailure = (error: Error) => {
    failure ??= error;
    for (const job of queue.splice(0)) job.reject(error);
  };
  let lanes: Lane[];
  let dimensions: number;
  if (workers === 0) {
    const session = await openSession(sessionOptions);
    dimensions = session.dimensions;
    lanes = [inProcessLane(session)];
  } else {
    const started = await Promise.allSettled(
      Array.from({ length: workers }, () => workerLane(sessionOptions, onFailure)),
    );
    const ready = started.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) {
      await Promise.all(ready.map((lane) => lane.close()));
      throw failed.reason;
    }
    dimensions = ready[0]!.dimensions;
    lanes = ready;
  }
  for (const lane of lanes) busy.set(lane, 0);

  const pump = () => {
    for (const lane of lanes) {
      while (queue.length > 0 && busy.get(lane)! < lane.capacity) {
        const job = queue.shift()!;
        busy.set(lane, busy.get(lane)! + 1);
        lane.run(job.texts).then(job.resolve, job.reject).finally(() => {
          busy.set(lane, busy.get(lane)! - 1);
          pump();
        });
      }
    }
  };
  const schedule = (texts: string[]) =>
    new Promise<Float32Array>((resolve, reject) => {
      if (failure) return reject(failure);
      queue.push({ texts, resolve, reject });
      pump();
    });

  let closed = false;
  return {
    modelId,
    dimensions,
    dtype,
    batchSize,
    workers,
    threadsPerSession,
    maxTokens,
    async embed(texts) {
      if (closed) throw new Error("the embedder is closed");
      const slots = new Map<string, number>();
      const slotOf = texts.map((text) => {
        let slot = slots.get(text);
        if (slot === undefined) slots.set(text, slot = slots.size);
        return slot;
      });
      const distinct = [...slots.keys()];
      // Texts of similar length share a batch, so little of it is padding.
      const order = distinct.map((_, i) => i).sort((a, b) => distinct[a]!.length - distinct[b]!.length);
      const batches: number[][] = [];
      for (let start = 0; start < order.length; start += batchSize) batches.push(order.slice(start, start + batchSize));
      const results = await Promise.all(batches.map((batch) => schedule(batch.map((i) => distinct[i]!))));
      metrics.embeddedTexts.inc(distinct.length);
      const flat = new Float32Array(distinct.length * dimensions);
      batches.forEach((batch, b) =>
        batch.forEach((slot, row) =>
          flat.set(results[b]!.subarray(row * dimensions, (row + 1) * dimensions), slot * dimensions)
        )
      );
      return slotOf.map((slot) => Array.from(flat.subarray(slot * dimensions, (slot + 1) * dimensions)));
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(lanes.map((lane) => lane.close()));
    },
  };
}
