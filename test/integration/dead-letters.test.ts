import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { defineAsset } from "../../engine/asset.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { defineStagedAsset, replayDeadLetters, Staging } from "../../connectors/staging/index.ts";
import { BadRow } from "../../connectors/bad-rows.ts";
import { defineResource } from "../../engine/resource.ts";
import { prepareDatabase } from "../../engine/worker.ts";
import { createPool, metadataDb, type pg } from "../../resources/postgres.ts";
import { settings } from "../../resources/settings.ts";
import { materialize } from "../support.ts";

let pool: pg.Pool;
let staging: Staging;
const id = randomBytes(3).toString("hex");
const table = `test_reviews_${id}`;

beforeAll(async () => {
  pool = createPool(settings().databaseUrl);
  await prepareDatabase(pool);
  staging = new Staging(createPool(settings().databaseUrl));
});
afterAll(async () => {
  await pool.query(`drop table if exists staging.${table}`);
  await staging.close();
  await pool.end();
});

const source = [
  { id: "1", email: "a@example.com", rating: 5, updated_at: "2026-01-01" },
  { id: "2", email: "b@example.com", rating: 4, updated_at: "2026-01-01" },
  { id: "3", email: "c@example.com", rating: 3, updated_at: "2026-01-01" },
  { id: "4", email: "not-an-email", rating: 3, updated_at: "2026-01-01" },
  { id: "5", email: "e@example.com", rating: 9, updated_at: "2026-01-01" },
  new BadRow("reviews.jsonl", 6, "Unexpected token o in JSON", "{oops"),
  { id: "1", email: "older@example.com", rating: 5, updated_at: "2025-12-01" },
  { id: "2", email: "newer@example.com", rating: 4, updated_at: "2026-02-01" },
];

const review = (maxRating: number) =>
  z.object({
    id: z.string(),
    email: z.email(),
    rating: z.number().int().min(1).max(maxRating),
    updated_at: z.string(),
  });

function graphWith(maxRating: number) {
  const reviews = defineStagedAsset({
    key: `dl_${id}/reviews`,
    table,
    source: "test.reviews",
    codeVersion: String(maxRating),
    model: review(maxRating),
    sourceKey: (r) => r.id,
    rawKey: (raw) => raw.id,
    updatedAt: (r) => r.updated_at,
    retry: { maxAttempts: 1 },
    extract: async () => source,
  });
  return buildAssetGraph({ assets: [reviews], resources: { staging: defineResource({ setup: () => staging }) } });
}

describe("dead letters", () => {
  let runId: string;

  it("accounts for every extracted record: loaded, dead-lettered with its reason, or deduplicated", async () => {
    const graph = graphWith(5);
    const { run } = await materialize(pool, graph);
    runId = run.id;
    expect(run.status, run.error ?? "").toBe("succeeded");
    const [m] = await metadataDb(pool).selectFrom("ingest.materializations").select("counts").where(
      "run_id",
      "=",
      run.id,
    ).execute();
    expect(m!.counts).toMatchObject({ extracted: 8, loaded: 3, deadLettered: 3, deduplicated: 2 });

    const staged = await staging.read<{ email: string }>(table);
    expect(staged.map((s) => [s.sourceKey, s.record.email])).toEqual([
      ["1", "a@example.com"],
      ["2", "newer@example.com"],
      ["3", "c@example.com"],
    ]);

    const letters = await listDeadLetters(metadataDb(pool), { runId: run.id });
    expect(letters.map((l) => [l.sourceKey, l.reason, l.issues.map((i) => i.path)])).toEqual([
      ["4", "invalid", ["email"]],
      ["5", "invalid", ["rating"]],
      [null, "unparseable", ["line 6"]],
    ]);
    expect(letters[0]!.payload).toEqual(source[3]);
    expect(letters[1]!.issues[0]!.message).toMatch(/5/);
    expect(letters[2]!.payload).toEqual({ line: 6, raw: "{oops" });
    expect(letters[2]!.issues[0]!.message).toBe("reviews.jsonl:6: Unexpected token o in JSON");
    expect(letters.every((l) => l.assetKey === `dl_${id}/reviews` && l.source === "test.reviews")).toBe(true);
  });

  it("replays them through the fixed model: what passes is staged, what still fails keeps its row", async () => {
    const result = await replayDeadLetters(metadataDb(pool), graphWith(10), staging, { assetKey: `dl_${id}/reviews` });
    expect(result).toMatchObject({ replayed: 1, stillFailing: 1, skipped: 1 });
    expect((await staging.read<{ rating: number }>(table)).map((s) => s.sourceKey)).toEqual(["1", "2", "3", "5"]);
    const open = await listDeadLetters(metadataDb(pool), { runId });
    expect(open.map((l) => l.sourceKey)).toEqual(["4", null]);
    const replayed = await listDeadLetters(metadataDb(pool), { runId, status: "replayed" });
    expect(replayed.map((l) => l.sourceKey)).toEqual(["5"]);
  });

  it("supersedes earlier runs' dead letters when the asset reads its source again", async () => {
    const { run } = await materialize(pool, graphWith(5));
    expect(run.status).toBe("succeeded");
    const open = await listDeadLetters(metadataDb(pool), { assetKey: `dl_${id}/reviews` });
    expect(new Set(open.map((l) => l.runId))).toEqual(new Set([run.id]));
    expect(open).toHaveLength(3);
    const superseded = await listDeadLetters(metadataDb(pool), { runId, status: "superseded" });
    expect(superseded.map((l) => l.sourceKey)).toEqual(["4", null]);
  });

  it("fails a materialisation whose counts do not reconcile", async () => {
    const lossy = defineAsset({
      key: `dl_${id}/lossy`,
      codeVersion: "1",
      retry: { maxAttempts: 1 },
      materialize: async () => ({ counts: { extracted: 5, loaded: 3 } }),
    });
    const { run } = await materialize(pool, buildAssetGraph({ assets: [lossy], resources: {} }));
    expect(run.status).toBe("failed");
    expect(run.error).toContain("counts do not reconcile: extracted 5 ≠ loaded 3 + dead-lettered 0 + deduplicated 0");
  });

  it("keeps the dead letters of the attempt that succeeded only", async () => {
    let attempt = 0;
    const flaky = defineAsset({
      key: `dl_${id}/flaky`,
      codeVersion: "1",
      retry: { maxAttempts: 2, initialDelayMs: 10 },
      async materialize({ deadLetter }) {
        attempt += 1;
        await deadLetter({
          source: "test",
          reason: "invalid",
          issues: [{ path: "x", message: "bad" }],
          payload: { attempt },
        });
        if (attempt === 1) throw new Error("first attempt fails");
        return { counts: { extracted: 1, loaded: 0 } };
      },
    });
    const { run } = await materialize(pool, buildAssetGraph({ assets: [flaky], resources: {} }));
    expect(run.status).toBe("succeeded");
    const letters = await listDeadLetters(metadataDb(pool), { runId: run.id });
    expect(letters.map((l) => l.payload)).toEqual([{ attempt: 2 }]);
  });
});
