/**
 * The webhook receiver under load: `wrk` (Debian's) posts signed chat deliveries, each with an id of its
 * own, to `ingest webhooks` in a process of its own on loopback, for 20 s over 32 connections. Measured:
 * requests a second and the 99th-percentile latency of the answers, as wrk reports them; and that every
 * delivery answered 202 is stored (wrk's script keeps the id of every 202 it reads, compared with the
 * table). A delivery stored whose answer wrk did not read before it stopped is counted, not an error: its
 * sender would send it again, as a duplicate.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { signatureHeaders, signDelivery } from "../connectors/webhooks/source.ts";
import { prepareDatabase } from "../engine/worker.ts";
import { createPool } from "../resources/postgres.ts";
import { packageRoot, settings } from "../resources/settings.ts";
import { aptInstall, hasCommand } from "../stack/system.ts";
import { freePort } from "../stack/throwaway.ts";
import { type BenchResult, result } from "./report.ts";

const seconds = 20;
const connections = 32;
const threads = 2;
/** Pre-signed deliveries: more than the receiver can take in `seconds`, so no id is sent twice. */
const deliveries = 150_000;

/** A `message.created` delivery as the chat service sends it, the `i`th. */
const body = (i: number) =>
  `{"event":"message.created","delivered_at":"2026-12-07T10:00:00.000Z","conversation_id":"conv-${
    i % 997
  }","message":{"id":"m${i}","author_type":"user","body":"Where is my order? It was due yesterday.","created_at":"2026-12-07T10:00:00.000Z"}}`;

/** wrk's script: request i carries body i, its signature and delivery id `d<i>`; the ids of 202 answers are written out. */
function wrkScript(secret: string, timestamp: Date, acknowledgedDir: string): string {
  const signatures: string[] = [];
  for (let i = 0; i < deliveries; i++) {
    signatures.push(signDelivery("zendesk", secret, body(i), timestamp)[signatureHeaders.zendesk.signature]!);
  }
  const [before, after] = body(0).split("m0").map((part) => part.replace(/conv-0/, "conv-%d"));
  return `
local signatures = {${signatures.map((s) => `"${s}"`).join(",")}}
local threads = {}
function setup(thread)
  thread:set("lane", #threads)
  table.insert(threads, thread)
end
function init(args)
  count = 0
  acked = {}
end
function request()
  local i = (lane + count * ${threads}) % ${deliveries}
  count = count + 1
  local b = string.format(${JSON.stringify(before)}, i % 997) .. "m" .. i .. ${JSON.stringify(after)}
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Zendesk-Webhook-Signature"] = signatures[i + 1],
    ["X-Zendesk-Webhook-Signature-Timestamp"] = "${timestamp.toISOString()}",
    ["X-Delivery-Id"] = "d" .. i,
  }, b)
end
function response(status, headers, body)
  if status == 202 then
    local id = string.match(body, '"deliveryId":"(d%d+)"')
    if id then acked[#acked + 1] = id end
  end
end
function done(summary, latency, requests)
  for i, thread in ipairs(threads) do
    local f = io.open("${acknowledgedDir}/acked-" .. i .. ".txt", "w")
    for _, id in ipairs(thread:get("acked")) do f:write(id, "\\n") end
    f:close()
  end
end
`;
}

/** The figure after `label` in wrk's report, in the unit given (ms for latencies). */
function wrkFigure(output: string, pattern: RegExp): number {
  const match = output.match(pattern);
  if (!match) throw new Error(`wrk's report has no ${pattern}:\n${output}`);
  const value = Number(match[1]);
  const unit = match[2];
  return unit === "us" ? value / 1000 : unit === "s" ? value * 1000 : value;
}

export async function webhooksBench(): Promise<BenchResult[]> {
  if (!hasCommand("wrk")) aptInstall(["wrk"], "the webhook bench");
  if (!hasCommand("wrk")) throw new Error("the webhook bench needs wrk (Debian: apt-get install wrk)");
  const pool = createPool(settings().databaseUrl);
  await prepareDatabase(pool);
  const dir = mkdtempSync(join(tmpdir(), "ingest-bench-webhooks-"));
  const source = `bench${randomBytes(4).toString("hex")}`;
  const secret = randomBytes(24).toString("base64url");
  const definitions = join(dir, "webhooks.definitions.ts");
  writeFileSync(
    definitions,
    `import { defineDefinitions, defineWebhookSource } from ${JSON.stringify(join(packageRoot, "index.ts"))};\n` +
      `export default defineDefinitions({ assets: [], resources: {}, webhookSources: [defineWebhookSource({ name: ${
        JSON.stringify(source)
      }, scheme: "zendesk", secrets: () => [process.env.BENCH_WEBHOOK_SECRET] })] });\n`,
  );
  const port = await freePort();
  let receiver: ChildProcess | undefined;
  try {
    receiver = spawn(
      join(packageRoot, "node_modules", ".bin", "node"),
      [join(packageRoot, "cli", "main.ts"), "--definitions", definitions, "webhooks", "--port", String(port)],
      { stdio: "ignore", env: { ...process.env, BENCH_WEBHOOK_SECRET: secret, LOG_LEVEL: "warn" } },
    );
    for (let i = 0; !(await fetch(`http://127.0.0.1:${port}/webhooks/health`).then((r) => r.ok, () => false)); i++) {
      if (i > 300) throw new Error("the webhook receiver did not come up in 30 s");
      await sleep(100);
    }
    const script = join(dir, "deliveries.lua");
    writeFileSync(script, wrkScript(secret, new Date(), dir));
    const wrk = spawnSync(
      "wrk",
      [
        "-t2",
        `-c${connections}`,
        `-d${seconds}s`,
        "--latency",
        "-s",
        script,
        `http://127.0.0.1:${port}/webhooks/${source}`,
      ],
      { encoding: "utf8" },
    );
    if (wrk.status !== 0) throw new Error(`wrk failed (${wrk.status}):\n${wrk.stdout}\n${wrk.stderr}`);
    const output = wrk.stdout;
    const requestsPerSecond = Number(output.match(/Requests\/sec:\s+([\d.]+)/)![1]);
    const p99 = wrkFigure(output, /99%\s+([\d.]+)(us|ms|s)/);
    const requests = Number(output.match(/(\d+) requests in/)![1]);
    const refused = Number(output.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0);
    const acknowledged = new Set(
      Array.from({ length: threads }, (_, i) => i + 1).flatMap((i) =>
        readFileSync(join(dir, `acked-${i}.txt`), "utf8").split("\n").filter(Boolean)
      ),
    );
    await sleep(500); // answers in flight when wrk stopped
    const { rows } = await pool.query<{ id: string }>(
      "select delivery_id as id from ingest.webhook_deliveries where source = $1",
      [source],
    );
    const stored = new Set(rows.map((r) => r.id));
    const lost = [...acknowledged].filter((id) => !stored.has(id)).length;
    if (requests >= deliveries) throw new Error(`wrk sent ${requests} requests: more than the ${deliveries} ids`);
    const notes =
      `wrk -t2 -c${connections} -d${seconds}s, Zendesk-signed message.created deliveries (~290 B), each id once; ` +
      `${requests} answered (${refused} not 2xx), ${acknowledged.size} acknowledged with 202, ${stored.size} stored; ` +
      `${stored.size - acknowledged.size + lost} stored whose answer wrk had not read when it stopped`;
    return [
      result(
        "webhook receiver: deliveries acknowledged per second (wrk, loopback)",
        requestsPerSecond,
        null,
        "req/s",
        ">= 1000",
        notes,
      ),
      result("webhook receiver: p99 latency of the answers (wrk)", p99, null, "ms", "<= 1000", notes),
      result("webhook receiver: deliveries acknowledged and not stored", lost, null, "deliveries", "<= 0", notes),
    ];
  } finally {
    receiver?.kill("SIGTERM");
    await pool.query("delete from ingest.webhook_deliveries where source = $1", [source]).catch(() => {});
    await pool.query("delete from ingest.webhook_rejections where source = $1", [source]).catch(() => {});
    await pool.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
