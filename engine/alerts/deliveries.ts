import { sql } from "kysely";
import type { IncidentRow, MetadataStore } from "../../db/schema.ts";
import { logger } from "../../resources/logger.ts";
import { redactText } from "../../resources/redact.ts";
import { retryDelayMs } from "../asset.ts";
import type { ChannelSpec, ResolvedAlerts } from "./config.ts";
import { emailSender } from "./email.ts";
import { type AlertMessage, alertMessage } from "./message.ts";
import { webhookSender } from "./webhook.ts";

/** How one delivery attempt went. */
export type Attempt =
  | { delivered: true; status?: number }
  | {
    delivered: false;
    /** A connection error, a timeout, a "try later": worth another attempt. */
    retry: boolean;
    /** The receiver said when (`Retry-After`). */
    retryAfterMs?: number;
    status?: number;
    error: string;
  };

/** A delivery this daemon has claimed, with its incident. */
export interface Claimed {
  id: number;
  event: "opened" | "resolved";
  channel: string;
  /** Attempts so far, this one included. */
  attempts: number;
  incident: IncidentRow;
}

/** Sends messages to one channel. */
export interface Sender {
  send(message: AlertMessage): Promise<Attempt>;
  close(): Promise<void>;
}

/** The longest a `Retry-After` is waited for. */
const maxRetryAfterMs = 3_600_000;

/**
 * Sends the pending deliveries of the channels this daemon has. A delivery is claimed with a lease
 * (`claimed_until`) in the statement that counts its attempt, so two daemons never send it at once and
 * one that died mid-attempt leaves it to another once the lease ends; every attempt is recorded with its
 * outcome, so a restarted daemon carries on where the last one stopped. A delivery is sent again only
 * when a daemon died between the receiver's answer and its record: receivers that must not see a repeat
 * drop it by its id (`X-Ingest-Delivery`).
 */
export class Dispatcher {
  readonly #db: MetadataStore;
  readonly #alerts: ResolvedAlerts;
  readonly #daemon: string;
  readonly #host: string;
  readonly #senders: Map<string, Sender>;

  constructor(db: MetadataStore, alerts: ResolvedAlerts, where: { daemon: string; host: string }) {
    this.#db = db;
    this.#alerts = alerts;
    this.#daemon = where.daemon;
    this.#host = where.host;
    this.#senders = new Map(alerts.channels.map((c) => [c.id, senderOf(c, alerts.timeoutMs)]));
  }

  get channels(): string[] {
    return [...this.#senders.keys()];
  }

  /** Real time (epoch ms) when a delivery of these channels is next due; Infinity when none is pending. */
  async nextDue(): Promise<number> {
    if (this.#senders.size === 0) return Infinity;
    const { rows } = await sql<{ due: Date | null }>`
      select min(greatest(next_attempt_at, coalesce(claimed_until, next_attempt_at))) as due
      from ingest.alert_deliveries where status = 'pending' and channel = any(${this.channels}::text[])`.execute(
      this.#db,
    );
    const due = rows[0]?.due;
    return due ? new Date(due).getTime() : Infinity;
  }

  /**
   * Claims up to `limit` deliveries that are due (counting their attempt), with their incidents: each is
   * then this daemon's to {@link send} until its lease ends.
   */
  async claimDue(limit: number): Promise<Claimed[]> {
    if (this.#senders.size === 0 || limit <= 0) return [];
    const leaseMs = this.#alerts.timeoutMs + 60_000;
    const { rows } = await sql<
      { id: string; incident_id: string; event: "opened" | "resolved"; channel: string; attempts: number }
    >`
      update ingest.alert_deliveries d
      set claimed_by = ${this.#daemon}, claimed_until = now() + ${leaseMs} * interval '1 millisecond',
        attempts = d.attempts + 1, last_attempt_at = now()
      where d.id in (
        select id from ingest.alert_deliveries
        where status = 'pending' and next_attempt_at <= now() and channel = any(${this.channels}::text[])
          and (claimed_until is null or claimed_until < now())
        order by id limit ${limit} for update skip locked)
      returning d.id, d.incident_id, d.event, d.channel, d.attempts`.execute(this.#db);
    if (rows.length === 0) return [];
    const incidents = new Map(
      (await this.#db.selectFrom("ingest.incidents").selectAll()
        .where("id", "in", [...new Set(rows.map((c) => Number(c.incident_id)))]).execute())
        .map((i) => [Number(i.id), i]),
    );
    return rows.map((row) => ({
      id: Number(row.id),
      event: row.event,
      channel: row.channel,
      attempts: row.attempts,
      incident: incidents.get(Number(row.incident_id))!,
    }));
  }

  /** Makes one attempt at a claimed delivery, bounded by the timeout, and records how it went. */
  async send(delivery: Claimed): Promise<void> {
    const attempt = await this.#attempt(delivery);
    await this.#record(delivery.id, delivery.attempts, attempt).catch((error: unknown) =>
      logger.error({ err: error, delivery: delivery.id }, "could not record an alert delivery")
    );
  }

  async #attempt(delivery: Claimed): Promise<Attempt> {
    const message = alertMessage(delivery.incident, delivery.event, delivery.id, {
      project: this.#alerts.project,
      host: this.#host,
    });
    try {
      return await this.#senders.get(delivery.channel)!.send(message);
    } catch (error) {
      return { delivered: false, retry: true, error: error instanceof Error ? error.message : String(error) };
    }
  }

  async #record(id: number, attempts: number, unredacted: Attempt): Promise<void> {
    // What a receiver or SMTP server said could quote a URL or a credential: it is stored and shown redacted.
    const attempt = unredacted.delivered ? unredacted : { ...unredacted, error: redactText(unredacted.error) };
    const base = { claimed_by: null, claimed_until: null, last_status: attempt.status ?? null };
    let query;
    if (attempt.delivered) {
      query = this.#db.updateTable("ingest.alert_deliveries")
        .set({ ...base, status: "delivered", delivered_at: sql`now()` });
      logger.info({ delivery: id, attempts }, "alert delivered");
    } else if (!attempt.retry || attempts >= this.#alerts.retry.maxAttempts) {
      query = this.#db.updateTable("ingest.alert_deliveries").set({
        ...base,
        status: "failed",
        last_error: attempt.error,
      });
      logger.error(
        { delivery: id, attempts, error: attempt.error },
        attempt.retry ? "alert delivery failed: no attempts left" : "alert delivery failed: the receiver refused it",
      );
    } else {
      const backoff = retryDelayMs(this.#alerts.retry, attempts);
      const delay = Math.max(backoff, Math.min(attempt.retryAfterMs ?? 0, maxRetryAfterMs));
      query = this.#db.updateTable("ingest.alert_deliveries").set({
        ...base,
        last_error: attempt.error,
        next_attempt_at: sql`now() + ${delay} * interval '1 millisecond'`,
      });
      logger.warn(
        { delivery: id, attempts, error: attempt.error, retryInMs: delay },
        "alert delivery failed: retrying",
      );
    }
    // Only while this daemon holds it: one whose lease ran out must not overwrite its successor's record.
    await query.where("id", "=", id).where("claimed_by", "=", this.#daemon).execute();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#senders.values()].map((s) => s.close().catch(() => {})));
  }
}

function senderOf(channel: ChannelSpec, timeoutMs: number): Sender {
  return channel.kind === "webhook" ? webhookSender(channel.config, timeoutMs) : emailSender(channel.config, timeoutMs);
}
