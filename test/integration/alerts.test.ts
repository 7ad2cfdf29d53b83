import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlertDeliveryRow } from "../../db/schema.ts";
import { verifyWebhookSignature } from "../../engine/alerts/webhook.ts";
import type { AlertMessage } from "../../engine/alerts/message.ts";
import type { AssetGraph } from "../../engine/asset-graph.ts";
import { compressedClock } from "../../engine/automation/clock.ts";
import { requestRun, waitForRun } from "../../engine/runs.ts";
import { assetStatuses } from "../../engine/status.ts";
import { type IngestWorker, prepareDatabase, startWorker } from "../../engine/worker.ts";
import { createPool, metadataDb, type pg } from "../../resources/postgres.ts";
import { packageRoot, settings } from "../../resources/settings.ts";
import { eventually, loadProjectGraph, userProject } from "../daemon-support.ts";
import { exitOf, startUntil } from "../processes.ts";

/**
 * Alerts as a user meets them: `ingest daemon` processes (two at once, both evaluating, then a restart)
 * against a database of this test's own, a real HTTP receiver (node:http), one that never answers, and
 * a real SMTP server (smtp-server) on loopback. Every incident's opening and resolution reaches each
 * channel once, signed; a receiver that fails first gets it on the retry; a dead worker, dead letters
 * past the threshold and a freshness target missed on a compressed clock are each alerted and resolved.
 */
const id = randomUUID().slice(0, 8);
const p = `al_${id}`;
const database = `alerts_${id}`;
const secret = "whsec-alerts-test-0123456789";
const scratch = mkdtempSync(join(tmpdir(), "ingest-alerts-"));
const flag = join(scratch, "fail");
const badCount = join(scratch, "bad");
const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "cli", "main.ts");

interface Received {
  at: number;
  headers: IncomingHttpHeaders;
  body: string;
  message: AlertMessage;
  status: number;
}

interface Answer {
  status: number;
  headers?: Record<string, string>;
}

/** An HTTP receiver that keeps every POST and answers what `answer` says. */
function receiver(answer: (message: AlertMessage) => Answer) {
  const received: Received[] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const message = JSON.parse(body) as AlertMessage;
    const { status, headers } = answer(message);
    received.push({ at: Date.now(), headers: req.headers, body, message, status });
    res.writeHead(status, { "content-type": "text/plain", ...headers }).end(status >= 400 ? "receiver says no" : "ok");
  });
  return { server, received };
}

const listen = (server: Server) =>
  new Promise<string>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`))
  );

/** Answers other than 200 the good receiver gives, each once, to the first POST it matches. */
const script: (Answer & { match(message: AlertMessage): boolean })[] = [];
const good = receiver((message) => {
  const rule = script.findIndex((r) => r.match(message));
  return rule < 0 ? { status: 200 } : script.splice(rule, 1)[0]!;
});
// Accepts the connection and never answers: each attempt runs into the timeout.
const hanging = createServer(() => {});
const mails: { from: string; to: string[]; raw: string }[] = [];
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ["STARTTLS"],
  logger: false,
  onData(stream, session, callback) {
    let raw = "";
    stream.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    stream.on("end", () => {
      mails.push({
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
        to: session.envelope.rcptTo.map((r) => r.address),
        raw,
      });
      callback();
    });
  },
});

let pool: pg.Pool;
let graph: AssetGraph;
let worker: IngestWorker;
let project: ReturnType<typeof userProject>;
let daemons: Daemon[] = [];
const env: Record<string, string> = {};
const clockOrigin = Date.now();
const clockStart = new Date(clockOrigin);
/** The daemons' clock: a minute per second. */
const clock = compressedClock({ start: clockStart, rate: 60, origin: clockOrigin });
const clockArgs = ["--clock-start", clockStart.toISOString(), "--clock-rate", "60", "--clock-origin", `${clockOrigin}`];
const db = () => metadataDb(pool);

const urlOf = (name: string) => {
  const url = new URL(settings().databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
};

beforeAll(async () => {
  const admin = createPool(settings().databaseUrl, 1);
  try {
    await admin.query(`create database ${database}`);
  } finally {
    await admin.end();
  }
  env.DATABASE_URL = urlOf(database);
  pool = createPool(env.DATABASE_URL);
  await prepareDatabase(pool);
  const hook = await listen(good.server);
  const never = await listen(hanging);
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  writeFileSync(badCount, "0");
  project = userProject(`import { existsSync, readFileSync } from "node:fs";
import { defineAsset, defineDefinitions } from "ingest-graph";

const flaky = defineAsset({
  key: "${p}/flaky",
  codeVersion: "1",
  retry: { maxAttempts: 1 },
  materialize: async () => {
    if (existsSync(${JSON.stringify(flag)})) throw new Error("the source answered 503: try again later");
    return { dataVersion: "ok" };
  },
});
const letters = defineAsset({
  key: "${p}/letters",
  codeVersion: "1",
  retry: { maxAttempts: 1 },
  materialize: async ({ deadLetter }) => {
    const bad = Number(readFileSync(${JSON.stringify(badCount)}, "utf8"));
    for (let i = 0; i < bad; i++) {
      await deadLetter({ source: "test", sourceKey: "r" + i, reason: "invalid", issues: [{ path: "id", message: "bad" }], payload: { i } });
    }
    return { counts: { extracted: 100, loaded: 100 - bad } };
  },
});
const fresh = defineAsset({
  key: "${p}/fresh",
  codeVersion: "1",
  freshness: { maxLagMinutes: 5 },
  materialize: async () => ({ metadata: { at: Date.now() } }),
});

export default defineDefinitions({
  assets: [flaky, letters, fresh],
  resources: {},
  alerts: {
    project: "alerts-test",
    intervalMs: 300,
    timeoutMs: 2_000,
    retry: { maxAttempts: 3, initialDelayMs: 300, factor: 2, jitter: 0 },
    webhooks: [{ url: "${hook}", secret: "${secret}" }, { url: "${never}", name: "hanging" }],
    email: { smtp: "smtp://127.0.0.1:${smtpPort}", from: "ingest@example.test", to: ["oncall@example.test"] },
  },
});
`);
  graph = await loadProjectGraph(project.file);
  worker = await startWorker({ graph, pool, concurrency: 2, pollIntervalMs: 100 });
  // Everything materialised once, before any daemon watches.
  await materialize(graph.order);
  // Two daemons evaluating side by side: each incident must still reach each channel once.
  daemons = await Promise.all([0, 1].map(() => daemon(["--no-leader", ...clockArgs])));
}, 120_000);

interface Daemon {
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/** `ingest daemon` on this test's database, once its alerts are running. */
async function daemon(args: string[]): Promise<Daemon> {
  const { child } = await startUntil(`exec ${node} ${cli} --definitions ${project.file} daemon ${args.join(" ")}`, {
    cwd: packageRoot,
    env: { ...process.env, ...env, LOG_LEVEL: "info" },
    ready: /alerts: delivering to their channels/,
  });
  const signal = async (name: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(name);
    return await exitOf(child);
  };
  return { stop: () => signal("SIGTERM"), kill: async () => void (await signal("SIGKILL")) };
}

afterAll(async () => {
  for (const daemon of daemons) await daemon.kill();
  await worker?.stop();
  await pool?.end();
  good.server.closeAllConnections();
  good.server.close();
  hanging.closeAllConnections();
  hanging.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
  const admin = createPool(settings().databaseUrl, 1);
  await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
  project?.remove();
  rmSync(scratch, { recursive: true, force: true });
});

async function materialize(keys: string[]) {
  const runId = await requestRun(db(), graph, { selection: keys.join(" "), keys });
  return (await waitForRun(db(), runId, 100)).run;
}

/** The POSTs the good receiver answered 2xx, of one incident kind and event. */
const delivered = (kind: string, event: "opened" | "resolved") =>
  good.received.filter((r) => r.status < 300 && r.message.kind === kind && r.message.event === event);

const header = (raw: string, name: string) =>
  new RegExp(`^${name}: (.*(?:\\r\\n[ \\t].*)*)`, "mi").exec(raw)?.[1]?.replace(/\r\n[ \t]/g, " ");

const mailsOf = (incidentId: number, event: "opened" | "resolved") =>
  mails.filter((m) => header(m.raw, "X-Ingest-Delivery") !== undefined && m.raw.includes(`Incident #${incidentId},`))
    .filter((m) => header(m.raw, "X-Ingest-Event") === `incident.${event}`);

async function deliveriesOf(incidentId: number): Promise<AlertDeliveryRow[]> {
  return await db().selectFrom("ingest.alert_deliveries").selectAll().where("incident_id", "=", incidentId)
    .orderBy("id").execute();
}

describe("alerts from `ingest daemon`", () => {
  let failedRun: string;
  let failureIncident: number;

  it("a failed run: one signed webhook POST naming the run and the asset, and one e-mail to the recipients", async () => {
    writeFileSync(flag, "");
    const run = await materialize([`${p}/flaky`]);
    expect(run.status).toBe("failed");
    failedRun = run.id;
    const [post] = await eventually("the webhook POST", async () => {
      const posts = delivered("run-failed", "opened");
      return posts.length > 0 ? posts : undefined;
    }, 30_000);
    const { message, headers, body } = post!;
    failureIncident = message.incidentId;
    expect(verifyWebhookSignature(secret, headers["x-ingest-signature"], body)).toBe(true);
    expect(verifyWebhookSignature("another secret", headers["x-ingest-signature"], body)).toBe(false);
    expect(headers["x-ingest-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(headers["x-ingest-event"]).toBe("incident.opened");
    expect(headers["x-ingest-delivery"]).toBe(String(message.deliveryId));
    expect(message).toMatchObject({
      event: "opened",
      kind: "run-failed",
      subject: `${p}/flaky`,
      status: "open",
      summary: `${p}/flaky failed in run ${run.id.slice(0, 8)}`,
      project: "alerts-test",
      resolvedAt: null,
      links: { runId: run.id, commands: expect.arrayContaining([`ingest runs show ${run.id}`]) },
    });
    expect(message.details).toMatchObject({
      assetKey: `${p}/flaky`,
      runId: run.id,
      error: "Error: the source answered 503: try again later",
    });

    const mail = await eventually("the e-mail", async () => mailsOf(failureIncident, "opened")[0], 30_000);
    expect(mail.to).toEqual(["oncall@example.test"]);
    expect(mail.from).toBe("ingest@example.test");
    expect(header(mail.raw, "Subject")).toBe(`[ingest alerts-test] ${p}/flaky failed in run ${run.id.slice(0, 8)}`);
    expect(header(mail.raw, "To")).toBe("oncall@example.test");
    // The body is quoted-printable: long lines are folded with a soft break (`=` at the end of a line).
    expect(mail.raw.replace(/=\r?\n/g, "")).toContain(`ingest runs show ${run.id}`);

    // Both daemons evaluated, one of them sent it: still one POST and one e-mail.
    await sleep(2_000);
    expect(good.received.filter((r) => r.message.incidentId === failureIncident)).toHaveLength(1);
    expect(mailsOf(failureIncident, "opened")).toHaveLength(1);
  });

  it("an unreachable receiver holds up no other alert: it is tried again on its own, with its error recorded", async () => {
    const [post] = delivered("run-failed", "opened");
    const incident = await db().selectFrom("ingest.incidents").selectAll().where("id", "=", failureIncident)
      .executeTakeFirstOrThrow();
    // The hanging receiver takes 2 s to time out per attempt; the good one heard within a second or so.
    expect(post!.at - new Date(incident.opened_at).getTime()).toBeLessThan(2_000);
    const hangingDelivery = await eventually("the hanging receiver's second attempt", async () => {
      const row = (await deliveriesOf(failureIncident)).find((d) => d.channel === "hanging");
      return row && row.attempts >= 2 && row.last_error ? row : undefined;
    }, 30_000);
    expect(hangingDelivery.last_error).toBe("no answer within 2000 ms");
    expect(hangingDelivery.delivered_at).toBeNull();
    const webhook = (await deliveriesOf(failureIncident)).find((d) => d.channel.startsWith("webhook:"))!;
    expect(webhook).toMatchObject({ status: "delivered", attempts: 1, last_status: 200 });
  });

  it("failing again while open is the same incident, counted, with nothing sent again", async () => {
    const again = await materialize([`${p}/flaky`]);
    expect(again.status).toBe("failed");
    failedRun = again.id;
    await eventually("the second failure to join the incident", async () => {
      const row = await db().selectFrom("ingest.incidents").selectAll().where("id", "=", failureIncident)
        .executeTakeFirstOrThrow();
      return row.occurrences === 2 ? row : undefined;
    }, 30_000);
    await sleep(1_000);
    expect(delivered("run-failed", "opened")).toHaveLength(1);
  });

  it("a later successful run of the asset resolves it, and the resolution is delivered once", async () => {
    rmSync(flag);
    const run = await materialize([`${p}/flaky`]);
    expect(run.status).toBe("succeeded");
    const [post] = await eventually("the resolution", async () => {
      const posts = delivered("run-failed", "resolved");
      return posts.length > 0 ? posts : undefined;
    }, 30_000);
    expect(post!.message).toMatchObject({
      incidentId: failureIncident,
      status: "resolved",
      resolution: `${p}/flaky succeeded in run ${run.id}`,
    });
    expect(verifyWebhookSignature(secret, post!.headers["x-ingest-signature"], post!.body)).toBe(true);
    const mail = await eventually("the resolution e-mail", async () => mailsOf(failureIncident, "resolved")[0]);
    expect(header(mail.raw, "Subject")).toBe(
      `[ingest alerts-test] resolved: ${p}/flaky failed in run ${failedRun.slice(0, 8)}`,
    );
  });

  it("a receiver that answers 500 gets the delivery on the retry, and the store records both attempts", async () => {
    script.push({ match: (m) => m.kind === "dead-letters" && m.event === "opened", status: 500 });
    writeFileSync(badCount, "5");
    expect((await materialize([`${p}/letters`])).status).toBe("succeeded");
    const [post] = await eventually("the dead-letter alert, on the retry", async () => {
      const posts = delivered("dead-letters", "opened");
      return posts.length > 0 ? posts : undefined;
    }, 30_000);
    const attempts = good.received.filter((r) => r.message.deliveryId === post!.message.deliveryId);
    expect(attempts.map((a) => a.status)).toEqual([500, 200]);
    expect(post!.message.summary).toBe(
      `${p}/letters has 5 open dead letters, 5% of 100 extracted (threshold: 1% of what was extracted)`,
    );
    const row = await eventually("the delivery recorded", async () => {
      const row = (await deliveriesOf(post!.message.incidentId)).find((d) => d.channel.startsWith("webhook:"))!;
      return row.status === "delivered" ? row : undefined;
    });
    expect(row).toMatchObject({
      status: "delivered",
      attempts: 2,
      last_status: 200,
      last_error: "HTTP 500 Internal Server Error: receiver says no",
    });
    expect(row.delivered_at).not.toBeNull();

    // Back under the threshold: resolved.
    writeFileSync(badCount, "1");
    expect((await materialize([`${p}/letters`])).status).toBe("succeeded");
    const resolved = await eventually(
      "the dead-letter resolution",
      async () => delivered("dead-letters", "resolved")[0],
    );
    expect(resolved.message.resolution).toBe(
      `${p}/letters has 1 open dead letters, 1% of 100 extracted, within the threshold`,
    );
  });

  it("freshness on a compressed clock: shown missed by status and alerted, then met after a materialisation and resolved", async () => {
    // Five clock minutes are five real seconds: wait until the materialisation of beforeAll is too old.
    const missed = await eventually("status to show the target missed", async () => {
      const [status] = await assetStatuses(db(), graph, [`${p}/fresh`], clock);
      return status?.freshness?.state === "missed" ? status.freshness : undefined;
    }, 30_000);
    expect(missed.target).toBe("at most 5 min old");
    expect(missed.missedSince).toBeInstanceOf(Date);
    expect(missed.reason).toMatch(/^missed since .+, by .+: last materialised .+ \(at most 5 min old\)$/);
    const opened = await eventually("the freshness alert", async () => delivered("freshness", "opened")[0], 30_000);
    expect(opened.message).toMatchObject({
      subject: `${p}/fresh`,
      summary: `${p}/fresh missed its freshness target (at most 5 min old)`,
      details: { state: "missed", target: "at most 5 min old" },
    });

    expect((await materialize([`${p}/fresh`])).status).toBe("succeeded");
    const [met] = await assetStatuses(db(), graph, [`${p}/fresh`], clock);
    expect(met!.freshness).toMatchObject({ state: "met", target: "at most 5 min old" });
    const resolved = await eventually("the freshness resolution", async () => {
      return delivered("freshness", "resolved").find((r) => r.message.incidentId === opened.message.incidentId);
    }, 30_000);
    expect(resolved.message.resolution).toMatch(new RegExp(`^${p}/fresh is fresh again: met until `));
  });

  it("a dead worker is alerted, and resolved once a worker is started in its place", async () => {
    const started = await startUntil(
      `exec ${node} ${cli} --definitions ${project.file} worker --heartbeat 0.2 --timeout 1`,
      { cwd: packageRoot, env: { ...process.env, ...env, LOG_LEVEL: "info" }, ready: /worker started/ },
    );
    const row = await eventually(
      "the worker's heartbeat",
      async () =>
        await db().selectFrom("ingest.workers").selectAll().where("pid", "=", started.child.pid!)
          .where("last_seen", "is not", null).executeTakeFirst(),
    );
    started.child.kill("SIGKILL");
    await exitOf(started.child);
    const opened = await eventually(
      "the dead-worker alert",
      async () => delivered("worker-dead", "opened").find((r) => r.message.subject === row.id),
      30_000,
    );
    expect(opened.message.summary).toMatch(
      new RegExp(`^worker [^ ]+:${started.child.pid} is dead: no heartbeat since `),
    );
    expect(opened.message.links.commands).toContain("ingest workers");

    const replacement = await startWorker({ graph, pool, liveness: { heartbeatMs: 200, timeoutMs: 1_000 } });
    try {
      const resolved = await eventually(
        "the dead-worker resolution",
        async () => delivered("worker-dead", "resolved").find((r) => r.message.subject === row.id),
        30_000,
      );
      expect(resolved.message.resolution).toMatch(/^replaced: worker [^ ]+:\d+ \(.+\) started since$/);
      expect(resolved.message.resolution).toContain(`(${replacement.id}) started since`);
    } finally {
      await replacement.stop();
    }
  });

  it("a restarted daemon carries on with a delivery the receiver asked to retry later, and sends nothing twice", async () => {
    // The next failure's POST is answered 503 with Retry-After: 5 s; the daemons stop before that is up.
    script.push({
      match: (m) => m.kind === "run-failed" && m.event === "opened",
      status: 503,
      headers: { "retry-after": "5" },
    });
    writeFileSync(flag, "");
    expect((await materialize([`${p}/flaky`])).status).toBe("failed");
    const refused = await eventually(
      "the 503",
      async () => good.received.find((r) => r.status === 503 && r.message.kind === "run-failed"),
      30_000,
    );
    expect(await Promise.all(daemons.map((d) => d.stop()))).toEqual([0, 0]);
    const before = good.received.length;
    const mailsBefore = mails.length;
    const pending = (await deliveriesOf(refused.message.incidentId)).find((d) => d.channel.startsWith("webhook:"))!;
    expect(pending).toMatchObject({ status: "pending", attempts: 1, last_status: 503, claimed_by: null });
    expect(pending.last_error).toBe("HTTP 503 Service Unavailable: receiver says no");
    // Retry-After (5 s) counts over the backoff (300 ms).
    expect(new Date(pending.next_attempt_at).getTime() - refused.at).toBeGreaterThan(4_000);

    daemons = [await daemon(clockArgs)];
    const retried = await eventually("the retry from the restarted daemon", async () => {
      const row = (await deliveriesOf(refused.message.incidentId)).find((d) => d.id === pending.id)!;
      return row.status === "delivered" ? row : undefined;
    }, 30_000);
    expect(retried).toMatchObject({ attempts: 2, last_status: 200 });
    expect(good.received.filter((r) => r.message.deliveryId === refused.message.deliveryId).map((r) => r.status))
      .toEqual([503, 200]);
    await sleep(2_000);
    // Nothing already delivered was delivered again (a freshness miss may have opened anew meanwhile).
    const again = good.received.slice(before).filter((r) =>
      r.message.kind !== "freshness" && r.message.deliveryId !== refused.message.deliveryId
    );
    expect(again).toEqual([]);
    expect(mails.slice(mailsBefore).filter((m) => !m.raw.includes("freshness target"))).toEqual([]);
  });

  it("each incident's opening and resolution reached each channel at most once", async () => {
    const ok = good.received.filter((r) => r.status < 300);
    const events = ok.map((r) => `${r.message.incidentId}:${r.message.event}`);
    expect(new Set(events).size).toBe(events.length);
    const mailed = mails.map((m) => `${header(m.raw, "X-Ingest-Delivery")}`);
    expect(new Set(mailed).size).toBe(mailed.length);
    const { rows } = await pool.query<{ n: number }>(
      "select count(*)::int as n from ingest.alert_deliveries where status = 'delivered' and channel like 'email:%'",
    );
    expect(mails.length).toBe(rows[0]!.n);
  });

  it("`ingest alerts --json` lists the incidents with their deliveries, and `ingest status --json` the freshness, in camelCase", () => {
    const run = (...args: string[]) =>
      spawnSync(node, [cli, "--definitions", project.file, "--json", ...args], {
        env: { ...process.env, ...env, LOG_LEVEL: "warn" },
        encoding: "utf8",
      });
    const alerts = run("alerts");
    expect(alerts.status, alerts.stderr).toBe(0);
    const listed = JSON.parse(alerts.stdout) as {
      channels: { id: string; description: string }[];
      incidents: {
        id: number;
        kind: string;
        status: string;
        openedAt: string;
        deliveries: { status: string; channel: string }[];
      }[];
    };
    expect(listed.channels.map((c) => c.description)).toEqual([
      expect.stringMatching(/^webhook http:\/\/127\.0\.0\.1:\d+, signed$/),
      expect.stringMatching(/^webhook http:\/\/127\.0\.0\.1:\d+$/),
      expect.stringMatching(/^e-mail to oncall@example\.test via 127\.0\.0\.1:\d+$/),
    ]);
    const failure = listed.incidents.find((i) => i.id === failureIncident)!;
    expect(failure).toMatchObject({ kind: "run-failed", status: "resolved", occurrences: 2 });
    expect(failure.deliveries.filter((d) => d.status === "delivered")).toHaveLength(4);
    expect(failure.deliveries.filter((d) => d.channel === "hanging").map((d) => d.status)).not.toContain("delivered");
    const status = run("status");
    expect(status.status, status.stderr).toBe(0);
    const fresh = (JSON.parse(status.stdout) as { assetKey: string; freshness?: Record<string, unknown> }[])
      .find((s) => s.assetKey === `${p}/fresh`)!;
    // On the real clock, the materialisation of a moment ago is well within five minutes.
    expect(fresh.freshness).toMatchObject({ state: "met", target: "at most 5 min old" });
    expect(Object.keys(fresh.freshness!)).toEqual(expect.arrayContaining(["materializedAt", "deadline", "reason"]));
  });
});
