import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { cacheDir, localPorts, packageRoot, settings, stateDir } from "../resources/settings.ts";
import { printsFromNow, startDetached, waitUntilReady } from "./process.ts";
import type { LocalService } from "./service.ts";
import { hasCommand } from "./system.ts";

/** Our Go module: go.mod, go.sum and main.go, which assembles the Jaeger components the stack uses. */
const moduleDir = join(packageRoot, "stack", "jaeger");

function moduleFiles(): string[] {
  if (!existsSync(join(moduleDir, "go.mod"))) {
    throw new Error(`the Go module that builds Jaeger is missing from this package (${moduleDir}/go.mod)`);
  }
  return readdirSync(moduleDir).filter((name) => /^(go\.mod|go\.sum|.*\.go)$/.test(name)).sort();
}

/** The Jaeger module version go.mod pins (`v1.75.0` is Jaeger 2.12). */
function jaegerVersion(): string {
  const goMod = readFileSync(join(moduleDir, "go.mod"), "utf8");
  const version = /github\.com\/jaegertracing\/jaeger (v\S+)/.exec(goMod)?.[1];
  if (!version) throw new Error(`${moduleDir}/go.mod requires no github.com/jaegertracing/jaeger version`);
  return version;
}

/** `<cache>/jaeger/<version>-<hash of our module's files>/jaeger`: a changed module is a new build. */
function binaryPath(): string {
  const hash = createHash("sha256");
  for (const name of moduleFiles()) hash.update(name).update(readFileSync(join(moduleDir, name)));
  return join(cacheDir, "jaeger", `${jaegerVersion()}-${hash.digest("hex").slice(0, 12)}`, "jaeger");
}

const minutes = (since: number) => ((performance.now() - since) / 60_000).toFixed(1);

/** Runs `go build`, telling the user every minute that it still runs: a first build takes minutes. */
async function goBuild(output: string): Promise<void> {
  const args = ["build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", output, "."];
  const child = spawn("go", args, { cwd: moduleDir, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const collect = (chunk: Buffer) => void (log = (log + chunk.toString()).slice(-16_000));
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const started = performance.now();
  const ticker = setInterval(() => console.error(`jaeger: still building (${minutes(started)} min)…`), 60_000);
  try {
    const [code] = await once(child, "close");
    if (code !== 0) {
      throw new Error(
        `go ${args.join(" ")} in ${moduleDir} failed (exit ${code}):\n${log.trim().split("\n").slice(-40).join("\n")}`,
      );
    }
  } finally {
    clearInterval(ticker);
  }
  console.error(`jaeger: built in ${minutes(started)} min`);
}

/**
 * Builds the Jaeger binary into the user's cache once per version of our module. The build goes to a
 * folder aside that is renamed into place, so a half-built binary is never run, and a build racing
 * another project's finds theirs as good as its own.
 */
async function buildJaeger(): Promise<string> {
  const binary = binaryPath();
  if (existsSync(binary)) return binary;
  if (!hasCommand("go")) {
    throw new Error(
      "'go' (Go 1.24 or later) is needed to build the local Jaeger: install it (https://go.dev/doc/install), " +
        "or run a Jaeger of your own and set JAEGER_QUERY_URL to its query address",
    );
  }
  const builds = join(cacheDir, "jaeger");
  mkdirSync(builds, { recursive: true });
  console.error(
    `jaeger: building Jaeger ${jaegerVersion()} with Go from the module proxy into ${builds} ` +
      "(once; several minutes on two cores)…",
  );
  const aside = mkdtempSync(join(builds, ".building-"));
  try {
    await goBuild(join(aside, "jaeger"));
    renameSync(aside, dirname(binary));
  } catch (error) {
    if (!existsSync(binary)) throw error;
  } finally {
    rmSync(aside, { recursive: true, force: true });
  }
  return binary;
}

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
