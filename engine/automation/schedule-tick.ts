import { sql } from "kysely";
import { plan } from "../planner.ts";
import { selectAssets } from "../selection.ts";
import { VersionIndex } from "../versions.ts";
import { type EvaluationContext, type Evaluator, readsOf } from "./evaluation.ts";
import { recordTick, type StoredRequest } from "./run-requests.ts";
import { dueTicks, nextTick, NoPartitionYet, partitionsOfTick, type ScheduleDefinition } from "./schedule.ts";

interface ScheduleCursor {
  /** The latest scheduled instant handled (run or skipped). */
  lastTick: string;
}

/** The longest the daemon sleeps before looking at the clock again, should the system clock jump. */
const maxSleepMs = 60_000;

/**
 * Evaluates a schedule: when the clock passes its next tick, it takes the schedule's cursor row
 * `for update`, so daemons evaluating at once take turns and the second finds the tick handled,
 * then records the due ticks (each under a unique key), their runs and the new cursor in one
 * transaction.
 */
export class ScheduleEvaluator implements Evaluator {
  readonly name: string;
  readonly kind = "schedule";
  readonly #schedule: ScheduleDefinition;
  readonly #ctx: EvaluationContext;
  readonly #keys: string[];
  /** The selection and what it reads: all that staleness is judged on. */
  readonly #reads: string[];
  #next: Date | undefined;

  constructor(schedule: ScheduleDefinition, ctx: EvaluationContext) {
    this.name = schedule.name;
    this.#schedule = schedule;
    this.#ctx = ctx;
    this.#keys = [...selectAssets(ctx.graph, schedule.select)];
    this.#reads = readsOf(ctx.graph, this.#keys);
  }

  nextAt(): number {
    if (!this.#next) return Date.now();
    return Date.now() + Math.min(maxSleepMs, this.#ctx.clock.msUntil(this.#next));
  }

  async evaluate(): Promise<void> {
    const now = this.#ctx.clock.now();
    if (!this.#next) {
      this.#next = nextTick(this.#schedule, new Date((await this.#cursor(now)).lastTick));
      return;
    }
    if (this.#next > now) return;
    const { db } = this.#ctx;
    // Outside the tick's transaction: observing a source is a query to another system.
    if (this.#schedule.staleOnly) await this.#ctx.observe?.(this.#keys);
    const { ids, last } = await db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom("ingest.instigator_state").select("cursor").where("instigator", "=", this.name)
        .forUpdate().executeTakeFirstOrThrow();
      const after = new Date((row.cursor as unknown as ScheduleCursor).lastTick);
      const due = dueTicks(this.#schedule, after, now);
      const ids: string[] = [];
      let last = after;
      if (due.skipped) {
        const { count, first, last: lastSkipped, reason } = due.skipped;
        await tx
          .insertInto("ingest.ticks")
          .values({
            instigator: this.name,
            kind: "schedule",
            tick_key: null,
            tick_time: first,
            last_tick_time: lastSkipped,
            status: "skipped",
            reason,
            evaluations: count,
            daemon: this.#ctx.daemon,
          })
          .execute();
        last = lastSkipped;
      }
      const index = this.#schedule.staleOnly && due.run.length > 0
        ? await VersionIndex.load(db, this.#reads)
        : undefined;
      for (const tick of due.run) {
        const outcome = this.#requestFor(tick, index);
        const recorded = await recordTick(
          tx,
          {
            instigator: this.name,
            kind: "schedule",
            tickKey: tick.toISOString(),
            tickTime: tick,
            status: outcome.request ? "requested" : outcome.failed ? "failed" : "skipped",
            reason: outcome.reason,
            requests: outcome.request ? [outcome.request] : [],
          },
          this.#ctx.daemon,
        );
        ids.push(...(recorded ?? []));
        last = tick;
      }
      if (last > after) {
        await tx
          .updateTable("ingest.instigator_state")
          .set({
            cursor: JSON.stringify({ lastTick: last.toISOString() } satisfies ScheduleCursor),
            updated_at: sql`now()`,
          })
          .where("instigator", "=", this.name)
          .execute();
      }
      return { ids, last };
    });
    this.#next = nextTick(this.#schedule, last);
    await this.#ctx.submit(ids);
  }

  /** The run a tick requests, or why it requests none. */
  #requestFor(
    tick: Date,
    index: VersionIndex | undefined,
  ): { request?: StoredRequest; reason: string | null; failed?: boolean } {
    const schedule = this.#schedule;
    try {
      const partitions = partitionsOfTick(schedule, this.#ctx.graph, this.#keys, tick);
      if (
        index && plan(this.#ctx.graph, { keys: this.#keys, staleOnly: true, partitions, index, now: tick }).length === 0
      ) {
        return { reason: "nothing stale" };
      }
      const request: StoredRequest = {
        selection: schedule.select,
        keys: this.#keys,
        staleOnly: schedule.staleOnly,
        partitions,
        now: tick.toISOString(),
        tags: { ...schedule.tags, "ingest/schedule_tick": tick.toISOString() },
      };
      return { request, reason: partitions ? `partition ${partitions.join(", ")}` : null };
    } catch (error) {
      if (error instanceof NoPartitionYet) return { reason: error.message };
      return { reason: error instanceof Error ? error.message : String(error), failed: true };
    }
  }

  /** The schedule's cursor; a schedule seen for the first time starts now, and does not catch up on its past. */
  async #cursor(now: Date): Promise<ScheduleCursor> {
    const { db } = this.#ctx;
    await db
      .insertInto("ingest.instigator_state")
      .values({
        instigator: this.name,
        kind: "schedule",
        cursor: JSON.stringify({ lastTick: now.toISOString() } satisfies ScheduleCursor),
      })
      .onConflict((oc) => oc.column("instigator").doNothing())
      .execute();
    const row = await db.selectFrom("ingest.instigator_state").select("cursor").where("instigator", "=", this.name)
      .executeTakeFirstOrThrow();
    return row.cursor as unknown as ScheduleCursor;
  }
}
