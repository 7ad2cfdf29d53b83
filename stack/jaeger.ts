import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { localPorts, packageRoot, settings, stateDir } from "../resources/settings.ts";
import { goBinary } from "./go-build.ts";
import { printsFromNow, startDetached, waitUntilReady } from "./process.ts";
import type { LocalService } from "./service.ts";

/** The Jaeger binary, built from our Go module (`stack/jaeger/`: the components the stack uses) once per version of it. */
const buildJaeger = () =>
  goBinary({
    name: "jaeger",
    moduleDir: join(packageRoot, "stack", "jaeger"),
    module: "github.com/jaegertracing/jaeger",
    package: ".",
    withoutGo: "run a Jaeger of your own and set JAEGER_QUERY_URL to its query address",
  });

/**
 * The collector configuration: OTLP in, a bounded in-memory store, the query API out, each on its
 * own 127.0.0.1 port. The collector's own metrics endpoint (:8888) is off and the query's tracing
 * of itself too (it would export to whatever OTLP endpoint the environment names).
 */
function configYaml(): string {
  const at = (port: number) => `127.0.0.1:${port}`;
  return `# Written by ingest stack up: the local stack's Jaeger.
service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: info

extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: memstore
    enable_tracing: false
    http:
      endpoint: ${at(localPorts.jaegerQuery)}
    grpc:
      endpoint: ${at(localPorts.jaegerQueryGrpc)}

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: ${at(localPorts.jaegerOtlpGrpc)}
      http:
        endpoint: ${at(localPorts.jaegerOtlpHttp)}

processors:
  batch:

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`;
}

async function queryAnswers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/api/services`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * Jaeger v2 with its traces in memory: OTLP in on `settings().jaeger.otlpEndpoint`, the query API on
 * `settings().jaeger.queryUrl`. Optional, since its first build takes minutes: `stack up jaeger`.
 */
export const jaeger: LocalService = {
  name: "jaeger",
  kind: "server",
  optional: true,
  external: settings().external.jaeger,
  location: () => settings().jaeger.queryUrl,
  isReachable: () => queryAnswers(settings().jaeger.queryUrl),
  async start() {
    const binary = await buildJaeger();
    const config = join(stateDir, "jaeger", "config.yaml");
    mkdirSync(join(stateDir, "jaeger"), { recursive: true });
    writeFileSync(config, configYaml());
    const printed = printsFromNow("jaeger");
    const pid = startDetached({ name: "jaeger", command: binary, args: ["--config", config] });
    await waitUntilReady(
      "jaeger",
      pid,
      async () => printed("Everything is ready") && (await queryAnswers(settings().jaeger.queryUrl)),
      60_000,
    );
  },
};
