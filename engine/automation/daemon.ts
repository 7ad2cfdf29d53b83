import { hostname } from "node:os";
import type pg from "pg";
import { logger } from "../../resources/logger.ts";
import { metrics } from "../../resources/metrics.ts";
import { metadataDb } from "../../resources/postgres.ts";
import { ResourcePool } from "../resource.ts";
import { StreamSensorEvaluator } from "./stream-sensor-tick.ts";
import { observeSources } from "../observations.ts";
import { sourcesDir } from "../../resources/settings.ts";
import { AlertEvaluator } from "../alerts/evaluator.ts";
import type { AssetGraph } from "../asset-graph.ts";
import type { Definitions } from "../definitions.ts";
import { AssetSensorEvaluator } from "./asset-sensor-tick.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { EvaluationContext, Evaluator } from "./evaluation.ts";
import { landingFolder } from "./file-sensor.ts";
import { FileSensorEvaluator } from "./file-sensor-tick.ts";
import { Leadership } from "./leader.ts";
import { submitRunRequests } from "./run-requests.ts";
import { ScheduleEvaluator } from "./schedule-tick.ts";
import { TickLog } from "./ticks.ts";

/** What {@link startDaemon} runs and how. */
export interface DaemonOptions {
  /** The project's graph: its definitions carry the schedules, sensors and alerts. */
  graph: AssetGraph<Definitions>;
  /** The metadata database's pool: ticks, cursors and the daemon lock live there. The caller ends it. */
  pool: pg.Pool;
  /** The time schedules tick on (default the system clock). */
  clock?: Clock;
  /**
   * Evaluate only while holding the daemon lock (default true): with several daemons, one leads and
   * the others stand by. Without it every daemon evaluates, and ticks still request their runs once.
   */
  leader?: boolean;
  /** How often a standby daemon tries to take the lead (default 1 s). */
  standbyMs?: number;
  /** Where relative landing folders are (default `INGEST_SOURCES_DIR`). */
  sourcesDir?: string;
  /** How often pending run requests left by a crashed daemon are looked for (default 10 s). */
  recoverMs?: number;
}

/** A running daemon, from {@link startDaemon}. */
export interface Daemon {
  /** Finishes the evaluation in progress, records what is left, releases the lock. */
  stop(): Promise<void>;
  /** Settles when the daemon has stopped. */
  readonly done: Promise<void>;
}

/**
 * Runs a project's schedules, sensors and alerts until stopped, recording every tick. Evaluations due at the
 * same moment run concurrently; between them the daemon sleeps until the next is due. A failing
 * evaluation is recorded as a failed tick and tried again a second later; it never stops the others.
 * The daemon only requests runs: workers (`startWorker`, `ingest worker`) execute them.
 *
 * @example
 * ```ts
 * const daemon = await startDaemon({ graph, pool });
 * process.once("SIGTERM", () => daemon.stop());
 * await daemon.done;
 * ```
 */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { graph, pool } = options;
  const db = metadataDb(pool);
  const daemon = `${hostname()}:${process.pid}`;
  const ticks = new TickLog(db, daemon);
  let wake: () => void = () => {};
  /** When pending run requests are next looked for (epoch ms). */
  let recoverAt = 0;
  // Set up on first use: only a stale-only tick over observable sources needs the resources they observe with.
  const resources = new ResourcePool(graph.definitions.resources);
  const ctx: EvaluationContext = {
    db,
    graph,
    clock: options.clock ?? systemClock,
    daemon,
    ticks,
    submit: async (runIds) => {
      try {
        await submitRunRequests(db, graph, runIds);
      } catch (error) {
        // The requests stay pending (the database could not take their runs): look for them again at once.
        recoverAt = 0;
        throw error;
      }
    },
    wake: () => wake(),
    observe: async (keys) => void (await observeSources(db, graph, resources, keys)),
  };
  const { schedules = [], sensors = [] } = graph.definitions;
  const evaluators: Evaluator[] = [
    ...schedules.map((s) => new ScheduleEvaluator(s, ctx)),
    ...sensors.map((s) =>
      s.kind === "file-sensor"
        ? new FileSensorEvaluator(s, ctx, landingFolder(s, options.sourcesDir ?? sourcesDir))
        : s.kind === "stream-sensor"
        ? new StreamSensorEvaluator(s, ctx, resources)
        : new AssetSensorEvaluator(s, ctx)
    ),
    new AlertEvaluator(graph.definitions.alerts, ctx),
  ];
  await Promise.all(evaluators.map((e) => e.start?.()));
  const leadership = options.leader === false ? undefined : new Leadership(pool);
  const standbyMs = options.standbyMs ?? 1_000;
  const recoverMs = options.recoverMs ?? 10_000;

  // An evaluation that failed waits a moment before the next try, so a broken one does not spin.
  const held = new Map<Evaluator, number>();
  const nextAt = (e: Evaluator) => Math.max(e.nextAt(), held.get(e) ?? 0);
  let stopping = false;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const loop = async () => {
    let leading = false;
    logger.info(
      { daemon, schedules: schedules.length, sensors: sensors.length, leader: leadership !== undefined },
      "daemon started",
    );
    while (!stopping) {
      if (leadership && !(await leadership.tryAcquire())) {
        if (leading) logger.warn("no longer leading: standing by");
        leading = false;
        await sleep(standbyMs);
        continue;
      }
      if (!leading) {
        logger.info(
          { daemon },
          leadership ? "leading: evaluating schedules and sensors" : "evaluating schedules and sensors",
        );
      }
      leading = true;
      try {
        if (Date.now() >= recoverAt) {
          recoverAt = Date.now() + recoverMs;
          const recovered = await submitRunRequests(db, graph);
          if (recovered > 0) logger.info({ recovered }, "submitted run requests left pending");
          await ticks.flush();
        }
        const now = Date.now();
        const due = evaluators.filter((e) => nextAt(e) <= now);
        await Promise.all(
          due.map(async (e) => {
            if (await evaluate(e, ctx)) held.delete(e);
            else held.set(e, Date.now() + failureBackoffMs);
          }),
        );
      } catch (error) {
        logger.error({ err: error }, "daemon iteration failed; going on");
      }
      if (stopping) break;
      const next = Math.min(recoverAt, ...evaluators.map(nextAt));
      await sleep(Math.max(0, next - Date.now()));
    }
    await Promise.all(evaluators.map((e) => e.stop?.()));
    await resources.close();
    await ticks.flush().catch((error: unknown) =>
      logger.warn({ err: error }, "could not record the last folded ticks")
    );
    await leadership?.release();
    logger.info({ daemon }, "daemon stopped");
  };
  const done = loop();
  return {
    done,
    async stop() {
      stopping = true;
      wake();
      await done;
    },
  };
}

const failureBackoffMs = 1_000;

/** A failing evaluation is recorded as a failed tick and never stops the others. */
async function evaluate(evaluator: Evaluator, ctx: EvaluationContext): Promise<boolean> {
  // How late this evaluation is against when it was due: the daemon's lag, per schedule and sensor.
  metrics.tickLagSeconds.set({ instigator: evaluator.name }, Math.max(0, Date.now() - evaluator.nextAt()) / 1000);
  try {
    await evaluator.evaluate();
    return true;
  } catch (error) {
    logger.error({ err: error, instigator: evaluator.name }, "evaluation failed");
    const reason = error instanceof Error ? error.message : String(error);
    await ctx.ticks.record({
      instigator: evaluator.name,
      kind: evaluator.kind,
      tickTime: ctx.clock.now(),
      status: "failed",
      reason,
    }).catch(() => {});
    return false;
  }
}
