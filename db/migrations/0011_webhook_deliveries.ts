import { type Kysely, sql } from "kysely";

/**
 * Webhook deliveries (`ingest webhooks`): each one whose signature checked out, stored before the sender
 * is answered, once per source and delivery id (a sender's retry is not stored again); a stream asset reads
 * the unconsumed ones in order of arrival, from the partial index, and marks them consumed in the
 * transaction that stages them. Refused deliveries are only counted, by source and reason: their bodies
 * are never kept. No UI trigger: deliveries come too fast to notify each statement.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table ingest.webhook_deliveries (
    id bigserial primary key,
    source text not null,
    delivery_id text not null,
    received_at timestamptz not null default now(),
    content_type text,
    body bytea not null,
    consumed_at timestamptz,
    unique (source, delivery_id)
  )`.execute(db);
  await sql`create index webhook_deliveries_unconsumed on ingest.webhook_deliveries (source, id)
    where consumed_at is null`.execute(db);
  await sql`create table ingest.webhook_rejections (
    source text not null,
    reason text not null,
    count bigint not null default 0,
    last_at timestamptz not null default now(),
    primary key (source, reason)
  )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists ingest.webhook_rejections`.execute(db);
  await sql`drop table if exists ingest.webhook_deliveries`.execute(db);
}
