import neo4j from "neo4j-driver";
import { expect } from "vitest";
import { defineNodeAsset } from "../connectors/neo4j/index.ts";
import { defineStagedAsset, Staging } from "../connectors/staging/index.ts";
import { canonicalJson, storable } from "../engine/canonical-json.ts";
import { listDeadLetters } from "../engine/dead-letters.ts";
import { sameValue, type StagedOutcome, type stagedOutcome } from "./fuzz-inputs.ts";
import { nodesByKey } from "./stream-project.ts";
import type { connect } from "./support.ts";

/**
 * A fuzz test's source through a real materialisation: a staged asset with the bundled model and a node asset of
 * its records, and the check that what the run staged, dead-lettered and wrote to Neo4j is what the reader and the
 * model gave in-process ({@link stagedOutcome}), with counts that reconcile.
 */

/** Where one source of a fuzz test's run is loaded: its asset keys, staging table and label. */
export interface FuzzLoad {
  /** The staged asset's key; the node asset's is it with `_nodes`. */
  key: string;
  table: string;
  label: string;
  /** The node property holding the record's key. */
  keyProperty: string;
}

type Spec = Parameters<typeof stagedOutcome>[1];

/** A staged asset over `extract` and a node asset of its records (all their properties), named by `load`. */
export function fuzzAssets(
  load: FuzzLoad,
  spec: Spec,
  extract: () => AsyncIterable<unknown>,
  options: { integers?: string[]; resources?: string[] } = {},
) {
  const staged = defineStagedAsset({
    key: load.key,
    codeVersion: "1",
    table: load.table,
    source: `fuzz.${load.key}`,
    ...spec,
    resources: options.resources,
    extract,
  });
  const nodes = defineNodeAsset({
    key: `${load.key}_nodes`,
    codeVersion: "1",
    label: load.label,
    keyProperty: load.keyProperty,
    from: staged,
    properties: (r) => ({ ...(r as object) }),
    integers: options.integers,
  });
  return [staged, nodes];
}

/** What a node of a staged record holds: its fields but nulls (Neo4j stores none), as JSON has them. */
const nodeOf = (record: unknown) =>
  Object.fromEntries(
    Object.entries(JSON.parse(canonicalJson(record)) as Record<string, unknown>).filter(([, v]) => v !== null),
  );
const plainNode = (props: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(props).map(([k, v]) => [k, neo4j.isInt(v) ? v.toNumber() : v]));

/**
 * Checks a run's load of one source against the in-process outcome `want`: counts (extracted = loaded +
 * dead-lettered + deduplicated), each dead letter's reason, key and issue paths in order, each staged record and
 * its node. Returns the records lost or duplicated on the way (0 when the checks pass).
 */
export async function checkLoad(
  env: Awaited<ReturnType<typeof connect>>,
  runId: string,
  load: FuzzLoad,
  want: StagedOutcome<unknown>,
): Promise<number> {
  const { counts } = await env.db.selectFrom("ingest.materializations").select("counts").where("run_id", "=", runId)
    .where("asset_key", "=", load.key).executeTakeFirstOrThrow();
  expect(counts, load.key).toMatchObject({
    extracted: want.extracted,
    loaded: want.extracted - want.deadLetters.length - want.deduplicated,
    deadLettered: want.deadLetters.length,
    deduplicated: want.deduplicated,
  });
  const letters = await listDeadLetters(env.db, { runId, assetKey: load.key });
  const key = (k: string | undefined) => (k === undefined ? null : storable(k));
  expect(letters.map((l) => [l.reason, l.sourceKey, l.issues.map((i) => i.path)]), load.key).toEqual(
    want.deadLetters.map((d) => [d.reason, key(d.sourceKey), d.issues.map((i) => i.path)]),
  );
  expect(letters.every((l) => l.issues.every((i) => i.message.length > 0))).toBe(true);
  const staged = new Map((await new Staging(env.pool).read(load.table)).map((s) => [s.sourceKey, s.record]));
  const nodes = await nodesByKey(env.neo4j, load.label, load.keyProperty);
  let lost = Math.abs(staged.size - want.staged.size) + Math.abs(nodes.size - want.staged.size);
  for (const [sourceKey, record] of want.staged) {
    if (!staged.has(sourceKey) || !sameValue(staged.get(sourceKey), JSON.parse(canonicalJson(record)))) lost += 1;
    const node = nodes.get(String((record as Record<string, unknown>)[load.keyProperty]));
    if (!node || !sameValue(plainNode(node), nodeOf(record))) lost += 1;
  }
  expect(lost, `${load.key}: records lost or duplicated`).toBe(0);
  expect(want.staged.size, `${load.key}: some records load`).toBeGreaterThan(0);
  return lost;
}
