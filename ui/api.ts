import { Hono } from "hono";
import type { RunStatus, TickStatus } from "../db/schema.ts";
import { alertChannels } from "../engine/alerts/channels.ts";
import { listIncidents } from "../engine/alerts/incidents.ts";
import type { AssetGraph } from "../engine/asset-graph.ts";
import type { Definitions } from "../engine/definitions.ts";
import { summarise } from "../engine/asset-summaries.ts";
import { summariseInstigators } from "../engine/automation/instigators.ts";
import { listTicks } from "../engine/automation/ticks.ts";
import { cancelRun } from "../engine/cancel.ts";
import { deadLetterCounts, listDeadLetters } from "../engine/dead-letters.ts";
import { downstreamOf, lineageOf } from "../engine/lineage.ts";
import { countLiveWorkers, listWorkers } from "../engine/liveness.ts";
import { assetMaterializations } from "../engine/materializations.ts";
import type { ResourcePool } from "../engine/resource.ts";
import { describeRun, listRuns, requestRun } from "../engine/runs.ts";
import { selectAssets, SelectionError } from "../engine/selection.ts";
import { assetStatuses } from "../engine/status.ts";
import { observeSources } from "../engine/observations.ts";
import { traceLineage } from "../connectors/record-lineage.ts";
import { replayDeadLetters, Staging, stagingKind } from "../connectors/staging/index.ts";
import { traceUrlOf } from "../resources/jaeger-query.ts";
import type { pg } from "../resources/postgres.ts";
import type { MetadataStore } from "../db/schema.ts";
import { settings } from "../resources/settings.ts";
import { cachedLayout, type GraphLayout } from "./layout.ts";

/** What the JSON API reads and acts through: the project's graph, its metadata store and its resources. */
export interface ApiContext {
  graph: AssetGraph<Definitions>;
  db: MetadataStore;
  pool: pg.Pool;
  resources: ResourcePool;
  /** Where the layout cache lives (default: the state folder's `ui/`). */
  layoutFolder?: string;
  /** Whether the change feed listens (the browsers poll while it does not). */
  live(): boolean;
  /** Whether this process runs a worker too (`ingest ui --worker`). */
  worker: boolean;
  /** The project, as the page title names it. */
  project: string;
}

/** An address as the browser may see it: scheme, host, port and path, never a user or password. */
export function withoutCredentials(url: string): string {
  if (!URL.canParse(url)) return "(not a URL)";
  const u = new URL(url);
  u.username = "";
  u.password = "";
  u.search = "";
  return u.toString().replace(/\/$/, "");
}

const limitOf = (value: string | undefined, fallback: number, max = 1000) => {
  const n = Number(value ?? fallback);
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : fallback;
};

/** An error whose message a user can act on: shown as it is, with the status given. */
class Refusal extends Error {
  readonly status: 400 | 404 | 409;
  constructor(message: string, status: 400 | 404 | 409) {
    super(message);
    this.status = status;
  }
}

/**
 * The UI's JSON API: every answer is what the CLI's `--json` prints for the same question, from the
 * same engine functions (`ingest status --json` is `GET /api/status`, `ingest runs show` is
 * `GET /api/runs/:id`…), in camelCase.
 */
export function api(context: ApiContext): Hono {
  const { graph, db } = context;
  const app = new Hono();
  // Computed as the server starts, in a worker thread: the first visitor seldom waits for it.
  const layout: Promise<GraphLayout> = cachedLayout(graph, context.layoutFolder);
  layout.catch(() => {});

  app.onError((error, c) => {
    if (error instanceof Refusal) return c.json({ error: error.message }, error.status);
    if (error instanceof SelectionError) return c.json({ error: error.message }, 400);
    const message = error instanceof Error ? error.message : String(error);
    return c.json({ error: message }, 500);
  });

  const selected = (selection: string | undefined) => [...selectAssets(graph, selection?.trim() ? selection : "*")];

  app.get("/settings", (c) => {
    const s = settings();
    const traceUrl = traceUrlOf();
    return c.json({
      project: context.project,
      assets: graph.order.length,
      live: context.live(),
      worker: context.worker,
      addresses: {
        postgres: withoutCredentials(s.databaseUrl),
        neo4j: withoutCredentials(s.neo4j.uri),
        chroma: withoutCredentials(s.chromaUrl),
        jaeger: traceUrl ? withoutCredentials(s.jaeger.queryUrl) : null,
      },
    });
  });

  app.get("/assets", (c) => c.json(summarise(graph, selected(c.req.query("select")))));
  app.get("/layout", async (c) => c.json(await layout));
  app.get("/status", async (c) => c.json(await assetStatuses(db, graph, selected(c.req.query("select")))));
  app.get("/select", (c) => c.json({ keys: [...selectAssets(graph, c.req.query("q") ?? "")] }));

  app.get("/asset", async (c) => {
    const key = c.req.query("key") ?? "";
    if (!graph.byKey.has(key)) throw new Refusal(`unknown asset '${key}'`, 404);
    const partitionKey = c.req.query("partition");
    const [summary] = summarise(graph, [key]);
    const statuses = await assetStatuses(db, graph, [key]);
    const materializations = await assetMaterializations(db, key, {
      partitionKey,
      limit: limitOf(c.req.query("limit"), 20),
    });
    const latest = materializations.find((m) =>
      m.status === "succeeded" && (partitionKey === undefined || m.partitionKey === partitionKey)
    );
    const upstream = latest
      ? await lineageOf(db, { assetKey: key, partitionKey: latest.partitionKey, runId: latest.runId }, 3)
      : undefined;
    const downstream = latest ? await downstreamOf(db, latest.id, 2) : [];
    const deadLetters = await listDeadLetters(db, { assetKey: key, limit: 20 });
    const deadLetterSummary = (await deadLetterCounts(db)).filter((d) => d.assetKey === key);
    const pending = await new Staging(context.pool).listPending({ consumer: key, limit: 20 }).catch(() => []);
    return c.json({
      asset: summary,
      statuses,
      materializations,
      lineage: { upstream: upstream ?? null, downstream },
      deadLetters,
      deadLetterSummary,
      pending,
    });
  });

  app.get("/runs", async (c) =>
    c.json(
      await listRuns(db, limitOf(c.req.query("limit"), 50), {
        status: (c.req.query("status") || undefined) as RunStatus | undefined,
        assetKey: c.req.query("asset") || undefined,
        tag: c.req.query("tag") || undefined,
        instigator: c.req.query("instigator") || undefined,
      }),
    ));

  app.get("/runs/:id", async (c) => {
    const run = await describeRun(db, c.req.param("id"), traceUrlOf());
    if (!run) throw new Refusal(`no run ${c.req.param("id")}`, 404);
    const running = run.steps.filter((s) => s.status === "running");
    const progress = running.length === 0 ? [] : await db.selectFrom("ingest.step_progress").selectAll()
      .where("asset_key", "in", running.map((s) => s.assetKey)).execute();
    return c.json({
      ...run,
      progress: progress.map((p) => ({
        assetKey: p.asset_key,
        partitionKey: p.partition_key,
        done: Number(p.done),
        total: p.total === null ? null : Number(p.total),
        startedAt: p.started_at,
      })),
    });
  });

  app.get("/runs/:id/trace", async (c) => {
    const run = await describeRun(db, c.req.param("id"));
    if (!run) throw new Refusal(`no run ${c.req.param("id")}`, 404);
    const traceUrl = traceUrlOf();
    if (!run.traceId || !/^[0-9a-f]{32}$/.test(run.traceId)) throw new Refusal("this run was not traced", 404);
    if (!traceUrl) {
      throw new Refusal(
        "no Jaeger is known: start the stack's (npx ingest stack up jaeger) or set JAEGER_QUERY_URL",
        404,
      );
    }
    const response = await fetch(traceUrl(run.traceId), { signal: AbortSignal.timeout(5_000) }).catch((error) => {
      throw new Refusal(
        `Jaeger does not answer at ${withoutCredentials(settings().jaeger.queryUrl)}: ${error.message}`,
        404,
      );
    });
    if (!response.ok) throw new Refusal(`Jaeger has no trace ${run.traceId} (HTTP ${response.status})`, 404);
    return c.json({ traceId: run.traceId, traceUrl: traceUrl(run.traceId), jaeger: await response.json() });
  });

  app.post("/runs", async (c) => {
    const body = await c.req.json<{ selection?: string; stale?: boolean }>().catch(() => ({} as Record<string, never>));
    const selection = body.selection?.trim() || "*";
    const keys = [...selectAssets(graph, selection)];
    let runId: string;
    // "Materialise stale" asks the observable sources first, as `materialize --stale` does.
    if (body.stale === true) await observeSources(db, graph, context.resources, keys);
    try {
      runId = await requestRun(db, graph, { selection, keys, staleOnly: body.stale === true });
    } catch (error) {
      throw new Refusal(error instanceof Error ? error.message : String(error), 400);
    }
    return c.json({ runId, assets: keys, liveWorkers: await countLiveWorkers(db) });
  });

  app.post("/runs/:id/cancel", async (c) => {
    const runId = c.req.param("id");
    return c.json({ runId, status: await cancelRun(db, runId) });
  });

  app.get("/lineage", async (c) => {
    const node = c.req.query("node") || undefined;
    const document = c.req.query("document") || undefined;
    const assetKey = c.req.query("asset") || undefined;
    if (!node && !document && !assetKey) {
      throw new Refusal("give a node (Label:key), a document (collection:id) or an asset", 400);
    }
    try {
      return c.json(
        await traceLineage(db, graph, context.resources, {
          node,
          document,
          assetKey,
          partitionKey: c.req.query("partition") || undefined,
        }),
      );
    } catch (error) {
      throw new Refusal(error instanceof Error ? error.message : String(error), 404);
    }
  });

  app.get("/dead-letters", async (c) =>
    c.json(
      await listDeadLetters(db, {
        assetKey: c.req.query("asset") || undefined,
        runId: c.req.query("run") || undefined,
        reason: c.req.query("reason") || undefined,
        status: (c.req.query("status") || "open") as "open" | "replayed" | "superseded" | "all",
        limit: limitOf(c.req.query("limit"), 100),
      }),
    ));
  app.get("/dead-letters/summary", async (c) => c.json(await deadLetterCounts(db, c.req.query("run") || undefined)));
  app.post("/dead-letters/replay", async (c) => {
    const body = await c.req.json<{ asset?: string; reason?: string; run?: string }>().catch(
      () => ({} as Record<string, never>),
    );
    const staging = (await context.resources.get(stagingKind)) as Staging;
    return c.json(
      await replayDeadLetters(db, graph, staging, {
        assetKey: body.asset || undefined,
        reason: body.reason || undefined,
        runId: body.run || undefined,
      }),
    );
  });

  app.get("/pending", async (c) => {
    const staging = new Staging(context.pool);
    const asset = c.req.query("asset");
    return c.json(
      asset
        ? await staging.listPending({ consumer: asset, limit: limitOf(c.req.query("limit"), 50) })
        : await staging.pendingSummary(),
    );
  });

  app.get("/automation", (c) => c.json(summariseInstigators(graph.definitions)));
  app.get("/ticks", async (c) =>
    c.json(
      await listTicks(db, {
        instigator: c.req.query("name") || undefined,
        status: (c.req.query("status") || undefined) as TickStatus | undefined,
        limit: limitOf(c.req.query("limit"), 50),
      }),
    ));
  app.get("/workers", async (c) => c.json(await listWorkers(db, limitOf(c.req.query("limit"), 20))));
  app.get("/alerts", async (c) => {
    const incidents = await listIncidents(db, {
      status: c.req.query("open") ? "open" : "all",
      limit: limitOf(c.req.query("limit"), 20),
    });
    return c.json({ ...alertChannels(graph.definitions.alerts), incidents });
  });

  return app;
}
