import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Prometheus metrics of this process (prom-client): what workers and the daemon serve on
 * `--metrics-port`. Names follow Prometheus' conventions (`_total` counters, `_seconds` durations,
 * base units); labels are bounded: an asset key, an outcome, a record kind, a queue state, a
 * schedule or sensor name — never a run id or a record.
 */
export const registry = new Registry();

const seconds = [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 15, 60, 300, 900, 3600];

/** Every metric this framework records, created once per process (a module may be loaded twice by a test runner). */
function makeMetrics() {
  return {
    materializations: new Counter({
      name: "ingest_materializations_total",
      help: "Materialisation attempts by asset and outcome (succeeded, failed, retried, fresh, canceled).",
      labelNames: ["asset", "outcome"] as const,
      registers: [registry],
    }),
    materializationSeconds: new Histogram({
      name: "ingest_materialization_duration_seconds",
      help: "How long materialisation attempts took, by asset and outcome.",
      labelNames: ["asset", "outcome"] as const,
      buckets: seconds,
      registers: [registry],
    }),
    records: new Counter({
      name: "ingest_records_total",
      help:
        "Records by asset and what happened to them, as successful materialisations count them (extracted, written, unchanged, removed, deadLettered, pending…).",
      labelNames: ["asset", "kind"] as const,
      registers: [registry],
    }),
    storeOutageRetries: new Counter({
      name: "ingest_store_outage_retries_total",
      help: "Materialisations run again, by asset, because a store or source they use could not be reached.",
      labelNames: ["asset"] as const,
      registers: [registry],
    }),
    jobPickupSeconds: new Histogram({
      name: "ingest_job_pickup_latency_seconds",
      help: "From the time a materialisation job could run to the time a worker started it.",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    embeddedTexts: new Counter({
      name: "ingest_embedded_texts_total",
      help: "Texts embedded by this process (rate() of it is texts per second).",
      registers: [registry],
    }),
    ticks: new Counter({
      name: "ingest_ticks_total",
      help:
        "Schedule and sensor evaluations by instigator and what they came to (requested, skipped, evaluated, failed).",
      labelNames: ["instigator", "status"] as const,
      registers: [registry],
    }),
    tickLagSeconds: new Gauge({
      name: "ingest_tick_lag_seconds",
      help: "How late the daemon evaluated each schedule or sensor, at its latest evaluation.",
      labelNames: ["instigator"] as const,
      registers: [registry],
    }),
    streamLagMessages: new Gauge({
      name: "ingest_stream_lag_messages",
      help: "Messages sent to each stream asset's stream and not yet consumed, as its stream sensor last saw.",
      labelNames: ["asset"] as const,
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: "ingest_queue_jobs",
      help: "Materialisation jobs in the queue by state (queued, scheduled, running, failed), read when scraped.",
      labelNames: ["state"] as const,
      registers: [registry],
    }),
    workers: new Gauge({
      name: "ingest_workers",
      help: "Worker processes by liveness (live, dead), as their heartbeats say, read when scraped.",
      labelNames: ["state"] as const,
      registers: [registry],
    }),
    up: new Gauge({
      name: "ingest_process_up",
      help: "1 while this worker or daemon runs.",
      labelNames: ["role"] as const,
      registers: [registry],
    }),
    residentMemory: new Gauge({
      name: "ingest_process_resident_memory_bytes",
      help: "Resident memory of this process.",
      registers: [registry],
    }),
    heapUsed: new Gauge({
      name: "ingest_process_heap_used_bytes",
      help: "JavaScript heap in use in this process.",
      registers: [registry],
    }),
    cpuSeconds: new Counter({
      name: "ingest_process_cpu_seconds_total",
      help: "CPU time this process has spent, user and system.",
      registers: [registry],
    }),
  };
}

/**
 * The process's own figures, read at each scrape. prom-client's default collectors are not used: one
 * of them names a gauge `…_total`, which Prometheus' conventions (and promtool) reject, and some read
 * Node internals Deno does not have.
 */
function collectProcess(): void {
  const memory = process.memoryUsage();
  metrics.residentMemory.set(memory.rss);
  metrics.heapUsed.set(memory.heapUsed);
  const { user, system } = process.cpuUsage();
  const total = (user + system) / 1e6;
  metrics.cpuSeconds.inc(Math.max(0, total - cpuSeen));
  cpuSeen = total;
}
let cpuSeen = 0;

const key = Symbol.for("ingest.metrics");
type MetricsGlobal = typeof globalThis & { [key]?: ReturnType<typeof makeMetrics> };

/** This process's metrics. */
export const metrics: ReturnType<typeof makeMetrics> = (globalThis as MetricsGlobal)[key] ??= makeMetrics();

/** What a metrics endpoint serves, and how to stop it. */
export interface MetricsServer {
  /** `http://host:port/metrics`. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves this process's metrics at `http://<host>:<port>/metrics` (host 127.0.0.1 unless given: put
 * it elsewhere only behind a firewall), with the process's own (CPU, memory) beside ours. `collect` runs before each scrape, for figures read from the database (queue depth, workers).
 *
 * @example
 * ```ts
 * const server = await serveMetrics({ port: 9464, role: "worker", collect: () => readQueueDepth(pool) });
 * ```
 */
export async function serveMetrics(
  options: { port: number; host?: string; role: "worker" | "daemon"; collect?: () => Promise<void> },
): Promise<MetricsServer> {
  metrics.up.set({ role: options.role }, 1);
  const server: Server = createServer((request, response) => {
    if (request.url !== "/metrics") {
      response.writeHead(404).end("metrics are at /metrics\n");
      return;
    }
    (async () => {
      collectProcess();
      await options.collect?.().catch(() => {}); // a database that does not answer leaves those gauges as they were
      const body = await registry.metrics();
      response.writeHead(200, { "content-type": registry.contentType }).end(body);
    })().catch((error: unknown) => response.writeHead(500).end(String(error)));
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
