import { hostname } from "node:os";
import { sql } from "kysely";
import type { IncidentKind, IncidentRow } from "../../db/schema.ts";
import { logger } from "../../resources/logger.ts";
import type { EvaluationContext, Evaluator } from "../automation/evaluation.ts";
import {
  clearedFailures,
  clearedWorkers,
  type ConditionContext,
  deadLetterObservations,
  deadWorkers,
  failedRuns,
  type Failure,
  failureOpening,
  freshnessObservations,
  stateVerdicts,
  type Verdicts,
} from "./conditions.ts";
import { type AlertsConfig, resolveAlerts, type ResolvedAlerts } from "./config.ts";
import { type Claimed, Dispatcher } from "./deliveries.ts";
import { openIncident, openIncidents, type Opening, resolveIncident } from "./incidents.ts";

/** The name the alerts' state and their failed evaluations go under; no schedule or sensor can have it. */
export const alertsName = "ingest/alerts";

/** Deliveries in flight at once, at most. */
const maxInFlight = 50;

/**
 * The daemon's alerts, beside its schedules and sensors: every `intervalMs` it checks the conditions
 * (failed runs, dead letters, freshness, dead workers), opening and resolving incidents, and it sends
 * their deliveries when they are due, in the background, so a slow or unreachable receiver holds up
 * neither the other deliveries nor the schedules. Every change is a compare-and-set in the metadata
 * store, so daemons evaluating side by side (`--no-leader`) open, resolve and deliver each incident once.
 */
export class AlertEvaluator implements Evaluator {
  readonly name = alertsName;
  readonly kind = "alerts";
  readonly alerts: ResolvedAlerts;
  readonly #ctx: EvaluationContext;
  readonly #dispatcher: Dispatcher;
  readonly #inFlight = new Set<Promise<void>>();
  #since: Date | undefined;
  #checkAt = 0;
  #deliverAt = 0;

  constructor(config: AlertsConfig | undefined, ctx: EvaluationContext) {
    this.alerts = resolveAlerts(config);
    this.#ctx = ctx;
    this.#dispatcher = new Dispatcher(ctx.db, this.alerts, { daemon: ctx.daemon, host: hostname() });
  }

  nextAt(): number {
    return Math.min(this.#checkAt, this.#deliverAt);
  }

  /**
   * Alerts start watching a database the first time a daemon runs them there: runs that failed and
   * workers that died before are not alerted on, as an asset sensor does not act on the past.
   */
  async start(): Promise<void> {
    await sql`insert into ingest.instigator_state (instigator, kind, cursor)
      values (${alertsName}, 'alerts', jsonb_build_object('since', now())) on conflict (instigator) do nothing`
      .execute(this.#ctx.db);
    const row = await this.#ctx.db.selectFrom("ingest.instigator_state").select("cursor")
      .where("instigator", "=", alertsName).executeTakeFirstOrThrow();
    this.#since = new Date(String((row.cursor as { since: string }).since));
    logger.info(
      {
        channels: this.alerts.channels.map((c) => c.description),
        intervalMs: this.alerts.intervalMs,
        since: this.#since,
      },
      this.alerts.channels.length > 0 ? "alerts: delivering to their channels" : "alerts: no channel configured",
    );
  }

  async evaluate(): Promise<void> {
    if (Date.now() >= this.#checkAt) {
      this.#checkAt = Date.now() + this.alerts.intervalMs;
      await this.#check();
      this.#deliverAt = 0;
    }
    if (Date.now() >= this.#deliverAt) {
      for (const delivery of await this.#dispatcher.claimDue(maxInFlight - this.#inFlight.size)) this.#start(delivery);
      this.#deliverAt = await this.#dispatcher.nextDue();
    }
  }

  /** Waits for the deliveries in flight (each bounded by the timeout), then closes the channels. */
  async stop(): Promise<void> {
    await Promise.all(this.#inFlight);
    await this.#dispatcher.close();
  }

  #start(delivery: Claimed): void {
    const sending: Promise<void> = this.#dispatcher.send(delivery).finally(() => {
      this.#inFlight.delete(sending);
      // A retry may now be due sooner than the daemon was going to look.
      this.#deliverAt = 0;
      this.#ctx.wake?.();
    });
    this.#inFlight.add(sending);
  }

  /** Each condition in turn; one that fails does not keep the others from being checked. */
  async #check(): Promise<void> {
    const ctx: ConditionContext = {
      db: this.#ctx.db,
      graph: this.#ctx.graph,
      clock: this.#ctx.clock,
      since: this.#since ?? new Date(),
    };
    const open = await openIncidents(ctx.db);
    const ofKind = (kind: IncidentKind) => open.filter((i) => i.kind === kind);
    const failures: string[] = [];
    const attempt = async (what: string, body: () => Promise<void>) => {
      try {
        await body();
      } catch (error) {
        logger.error({ err: error }, `alerts: checking ${what} failed`);
        failures.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
      }
    };
    await attempt("failed runs", async () => {
      for (const run of await failedRuns(ctx)) await this.#alertFailedRun(run);
      await this.#apply({ open: [], resolve: await clearedFailures(ctx, await this.#stillOpen("run-failed")) });
    });
    await attempt("freshness", async () => {
      const observations = await freshnessObservations(ctx);
      await this.#apply(
        stateVerdicts(observations, ofKind("freshness"), (asset) => `${asset} has no freshness target any more`),
      );
    });
    await attempt("dead letters", async () => {
      const threshold = this.alerts.deadLetters;
      const observations = threshold ? await deadLetterObservations(ctx, threshold) : [];
      await this.#apply(
        stateVerdicts(
          observations,
          ofKind("dead-letters"),
          (asset) => threshold ? `${asset} is no longer declared` : "dead-letter alerts are turned off",
        ),
      );
    });
    await attempt("workers", async () => {
      await this.#apply({ open: await deadWorkers(ctx), resolve: [] });
      await this.#apply({ open: [], resolve: await clearedWorkers(ctx, await this.#stillOpen("worker-dead")) });
    });
    if (failures.length > 0) throw new Error(failures.join("; "));
  }

  async #stillOpen(kind: IncidentKind): Promise<IncidentRow[]> {
    return (await openIncidents(this.#ctx.db)).filter((i) => i.kind === kind);
  }

  get #channels(): string[] {
    return this.#dispatcher.channels;
  }

  async #apply(verdicts: Verdicts): Promise<void> {
    for (const opening of verdicts.open) {
      const id = await openIncident(this.#ctx.db, opening, this.#channels, this.#ctx.daemon);
      if (id !== undefined) {
        logger.warn({ incident: id, kind: opening.kind, subject: opening.subject }, opening.summary);
      }
    }
    for (const { incident, resolution } of verdicts.resolve) {
      const channels = this.alerts.notifyResolved ? this.#channels : [];
      if (await resolveIncident(this.#ctx.db, Number(incident.id), resolution, channels)) {
        logger.info(
          { incident: incident.id, kind: incident.kind, subject: incident.subject },
          `resolved: ${resolution}`,
        );
      }
    }
  }

  /**
   * A failed run's failures, once: the run is marked alerted in the transaction that opens its incidents
   * (one per asset), or adds it to an asset's open one, so neither a second daemon nor a restart opens
   * them again.
   */
  async #alertFailedRun(run: Awaited<ReturnType<typeof failedRuns>>[number]): Promise<void> {
    const byAsset = Map.groupBy(run.steps, (s) => s.asset_key);
    await this.#ctx.db.transaction().execute(async (tx) => {
      const claimed = await tx.insertInto("ingest.alerted_runs").values({ run_id: run.runId })
        .onConflict((oc) => oc.column("run_id").doNothing()).returning("run_id").executeTakeFirst();
      if (!claimed) return;
      for (const steps of byAsset.values()) {
        const opening: Opening = failureOpening(run, steps);
        const join = async () => {
          const existing = await tx.selectFrom("ingest.incidents").selectAll()
            .where("kind", "=", "run-failed").where("subject", "=", opening.subject).where("status", "=", "open")
            .forUpdate().executeTakeFirst();
          if (!existing) return false;
          const failures = [
            ...((existing.details.failures ?? []) as Failure[]),
            ...(opening.details.failures as Failure[]),
          ].slice(-1_000);
          await tx.updateTable("ingest.incidents")
            .set({
              occurrences: sql`occurrences + 1`,
              summary: opening.summary,
              details: JSON.stringify({ ...opening.details, failures }),
              updated_at: sql`now()`,
            })
            .where("id", "=", existing.id).execute();
          return true;
        };
        // Another daemon's incident for the asset, opened a moment ago, conflicts: then this run joins it.
        if (await join()) continue;
        const id = await openIncident(tx, opening, this.#channels, this.#ctx.daemon);
        if (id === undefined) await join();
        else logger.warn({ incident: id, kind: opening.kind, subject: opening.subject }, opening.summary);
      }
    });
  }
}
