import { type Kysely, sql } from "kysely";

/**
 * Streams: where each stream asset's consumption got to (a Kafka partition's next offset, say), and the
 * ids of the events it applied, both written in the transaction that stages a batch — so a batch repeated
 * after a crash finds its events already applied and its position already moved.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create table if not exists staging.stream_positions (
    stream text not null,
    part text not null,
    position text not null,
    updated_at timestamptz not null default now(),
    primary key (stream, part))`.execute(db);
  // An event is kept by the MD5 of its id, a fixed 16 bytes compared without a collation, whatever the ids look like.
  await sql`create table if not exists staging.stream_events (
    stream text not null,
    event_key uuid not null,
    applied_at timestamptz not null default now(),
    primary key (stream, event_key))`.execute(db);
  await sql`create index if not exists stream_events_applied_at on staging.stream_events (applied_at)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists staging.stream_events`.execute(db);
  await sql`drop table if exists staging.stream_positions`.execute(db);
}
