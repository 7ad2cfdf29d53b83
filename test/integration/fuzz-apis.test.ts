import fc from "fast-check";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isBadRow } from "../../connectors/bad-rows.ts";
import { ApiError } from "../../connectors/http/index.ts";
import { neo4jResource } from "../../connectors/neo4j/index.ts";
import { Staging, stagingResource } from "../../connectors/staging/index.ts";
import { buildAssetGraph } from "../../engine/asset-graph.ts";
import { listDeadLetters } from "../../engine/dead-letters.ts";
import { defineDefinitions } from "../../engine/definitions.ts";
import { type ApiKind, apiKinds, garbageBody, plannedApi, type PlannedResponse } from "../fuzz-apis.ts";
import { checkBadRow, fuzzRuns, fuzzSeed, readAll, sameValue, stagedOutcome } from "../fuzz-inputs.ts";
import { checkLoad, fuzzAssets } from "../fuzz-loads.ts";
import { recordFigure } from "../reliability.ts";
import { dropLabels } from "../stream-project.ts";
import { connect, materialize } from "../support.ts";

/**
 * The API clients (CRM, chat, payments, GraphQL) against a local server answering with fuzzed bodies: pages of
 * hostile records (not objects, huge numbers, lone surrogates, prototype keys, deep nesting, 1 MiB texts), 503s
 * retried, and pages a client cannot read (garbage, cut short, binary, empty, another shape, a cursor that does not
 * advance, GraphQL errors that are not a list). A client yields every record of each page it read whole, in order,
 * and fails a page it cannot read with an error naming the API, never another error; what it yields goes through
 * the bundled asset's mapping and model in-process. A few cases go through a real materialisation too.
 */

/** A case: a list's pages of records, a 503 before some of them, and perhaps a page the client must refuse. */
const apiCase = (kind: ApiKind) =>
  fc.record({
    pages: fc.array(fc.array(kind.record, { maxLength: 8 }), { minLength: 1, maxLength: 3 }),
    unavailable: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
    refused: fc.option(
      fc.record({
        at: fc.nat(2),
        status: fc.constantFrom(200, 200, 200, 400, 404),
        body: fc.oneof(kind.brokenPage, garbageBody),
      }),
    ),
  });

type ApiCase = ReturnType<typeof apiCase> extends fc.Arbitrary<infer C> ? C : never;

/** The responses a case plans, the items its client should yield, and whether it should fail. */
function planOf(kind: ApiKind, c: ApiCase) {
  const responses: PlannedResponse[] = [];
  const items: unknown[] = [];
  for (const [i, records] of c.pages.entries()) {
    // retried once: the client tries twice in all
    if (c.unavailable[i]) responses.push({ status: 503, body: "temporarily unavailable" });
    if (c.refused && Math.min(c.refused.at, c.pages.length - 1) === i) {
      responses.push({ status: c.refused.status, body: c.refused.body });
      return { responses, items, fails: true };
    }
    const body = kind.page(records, i, i === c.pages.length - 1);
    responses.push({ status: 200, body });
    items.push(...kind.items(body));
  }
  return { responses, items, fails: false };
}

/** An item as compared: a bad row as such (checked apart), anything else as it is. */
const compared = (source: string) => (item: unknown) => {
  if (!isBadRow(item)) return item;
  checkBadRow(item, source);
  return { badRow: true };
};

for (const kind of apiKinds) {
  describe(`the ${kind.apiName} client, fuzzed`, () => {
    it("yields the records of every page it reads whole, and refuses a page it cannot read with an error naming the API", async () => {
      const api = await plannedApi();
      let runs = 0;
      let records = 0;
      try {
        await fc.assert(
          fc.asyncProperty(apiCase(kind), async (c) => {
            runs += 1;
            const plan = planOf(kind, c);
            api.plan(plan.responses);
            const { items, error } = await readAll(kind.read(api.url));
            if (plan.fails) {
              expect(error, "refused").toBeInstanceOf(ApiError);
              expect(error!.message.startsWith(`${kind.apiName}: `), error!.message).toBe(true);
            } else expect(error, error?.stack).toBeUndefined();
            const got = items.map(compared(`${kind.apiName} products`));
            expect(got.length).toBe(plan.items.length);
            got.forEach((item, i) => expect(sameValue(item, plan.items[i]), `item ${i}`).toBe(true));
            records += got.length;
            stagedOutcome(items.map((item) => (isBadRow(item) ? item : kind.staged.map(item))), kind.staged);
          }),
          fuzzRuns(450),
        );
      } finally {
        await api.close();
      }
      expect(runs).toBe(450);
      recordFigure(`fuzz: ${kind.name} cases`, api.served, "responses", ">= 1000", `${runs} lists, ${records} records`);
      recordFigure(`fuzz: ${kind.name} records lost or duplicated`, 0, "records", "<= 0");
    });
  });
}

describe("API sources through a materialisation into staging, dead letters and Neo4j", () => {
  const id = randomBytes(3).toString("hex");
  const keyProperties: Record<string, string> = {
    "crm-api": "contactId",
    "chat-api": "sessionId",
    "payments-api": "paymentId",
    graphql: "id",
  };
  const load = (kind: ApiKind) => ({
    key: `fuzz_${id}/${kind.name.replace("-", "_")}`,
    table: `fz_${kind.name.replace("-", "_")}_${id}`,
    label: `Fuzz${kind.name.replace("-", "_")}_${id}`,
    keyProperty: keyProperties[kind.name]!,
  });
  let env: Awaited<ReturnType<typeof connect>>;
  const apis: Awaited<ReturnType<typeof plannedApi>>[] = [];
  beforeAll(async () => {
    env = await connect();
  });
  afterAll(async () => {
    for (const api of apis) await api.close();
    for (const kind of apiKinds) await env?.pool.query(`drop table if exists staging.${load(kind).table}`);
    await env?.pool.query(`drop table if exists staging.fz_refused_${id}`);
    if (env) {
      await dropLabels(env.neo4j, apiKinds.map((kind) => load(kind).label));
      await env.close();
    }
  });

  /** Pages of hostile records a client reads whole: three of 10 to 20 records. */
  const pagesOf = (kind: ApiKind) =>
    fc.sample(fc.array(fc.array(kind.record, { minLength: 10, maxLength: 20 }), { minLength: 3, maxLength: 3 }), {
      seed: fuzzSeed,
      numRuns: 1,
    })[0]!;

  it("stages, dead-letters and writes what the clients and models give, and the counts reconcile", async () => {
    const wants = new Map<string, ReturnType<typeof stagedOutcome>>();
    const assets = [];
    for (const kind of apiKinds) {
      const api = await plannedApi();
      apis.push(api);
      const plan = planOf(kind, { pages: pagesOf(kind), unavailable: [false, true, false], refused: null });
      // read once here, for what the run should stage, then planned again for the run
      api.plan(plan.responses);
      const { items } = await readAll(kind.read(api.url));
      wants.set(kind.name, stagedOutcome(items.map((i) => (isBadRow(i) ? i : kind.staged.map(i))), kind.staged));
      api.plan(plan.responses);
      assets.push(...fuzzAssets(load(kind), kind.staged, async function* () {
        for await (const item of kind.read(api.url)) yield isBadRow(item) ? item : kind.staged.map(item);
      }));
    }
    const graph = buildAssetGraph(
      defineDefinitions({ assets, resources: { staging: stagingResource(), neo4j: neo4jResource() } }),
    );
    const { run } = await materialize(env.pool, graph);
    expect(run.status, run.error ?? "").toBe("succeeded");
    for (const kind of apiKinds) {
      const want = wants.get(kind.name)!;
      const lost = await checkLoad(env, run.id, load(kind), want);
      recordFigure(`fuzz: ${kind.name} loads, records`, want.extracted, "records", ">= 30");
      recordFigure(`fuzz: ${kind.name} loads, records lost or duplicated`, lost, "records", "<= 0");
    }
  });

  it("fails an asset whose API sends a page it cannot read, naming the API, with nothing staged or dead-lettered", async () => {
    const kind = apiKinds[0]!;
    const api = await plannedApi();
    apis.push(api);
    const refused = { at: 1, status: 200 as const, body: fc.sample(garbageBody, { seed: fuzzSeed, numRuns: 1 })[0]! };
    api.plan(planOf(kind, { pages: pagesOf(kind), unavailable: [false, false, false], refused }).responses);
    const refusing = { ...load(kind), key: `fuzz_${id}/refused`, table: `fz_refused_${id}` };
    const [staged] = fuzzAssets(refusing, kind.staged, async function* () {
      yield* kind.read(api.url);
    });
    const graph = buildAssetGraph(
      defineDefinitions({
        assets: [{ ...staged!, retry: { maxAttempts: 1 } }],
        resources: { staging: stagingResource() },
      }),
    );
    const { run } = await materialize(env.pool, graph);
    expect(run.status).toBe("failed");
    expect(run.error).toMatch(
      new RegExp(`${kind.apiName}: GET ${api.url}/crm/v3/objects/contacts\\?limit=10&after=a0: `),
    );
    expect(await new Staging(env.pool).read(refusing.table)).toEqual([]);
    expect(await listDeadLetters(env.db, { runId: run.id, status: "all" })).toEqual([]);
  });
});
