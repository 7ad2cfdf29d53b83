import { z } from "zod";
import { isBadRow } from "../connectors/bad-rows.ts";
import { readJsonLines } from "../connectors/jsonl/index.ts";
import { defineNodeAsset, neo4jResource } from "../connectors/neo4j/index.ts";
import { defineStagedAsset, stagingResource } from "../connectors/staging/index.ts";
import { defineDefinitions, type Definitions } from "../engine/definitions.ts";
import { settings } from "../resources/settings.ts";

const Review = z.object({ reviewId: z.string(), rating: z.number().int().min(1).max(5), text: z.string() });

/** The URL of another database on the server of `DATABASE_URL` (the local stack's). */
export function databaseUrlOf(database: string): string {
  const url = new URL(settings().databaseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Reviews read from a JSON Lines file (`source`), staged in `database` (by default the metadata database)
 * and loaded as `(:DiskFullReview_<prefix>)` nodes: what the disk-full test runs in an `ingest worker`
 * process and, for the clean run it compares with, in its own. Given a database's name, not its URL, so no
 * password is written into the definitions file.
 */
export function diskFullDefinitions(prefix: string, options: { database?: string; source: string }): Definitions {
  const reviews = defineStagedAsset({
    key: `${prefix}/reviews`,
    codeVersion: "1",
    table: `${prefix}_reviews`,
    source: "test.reviews",
    model: Review,
    sourceKey: (r) => r.reviewId,
    rawKey: (raw) => raw.reviewId,
    async *extract() {
      for await (const line of readJsonLines(options.source)) yield isBadRow(line) ? line : line.value;
    },
  });
  const nodes = defineNodeAsset<z.infer<typeof Review>>({
    key: `${prefix}/Review`,
    codeVersion: "1",
    label: `DiskFullReview_${prefix}`,
    keyProperty: "reviewId",
    integers: ["rating"],
    from: reviews,
    properties: (r) => ({ ...r }),
  });
  return defineDefinitions({
    assets: [reviews, nodes],
    resources: {
      staging: stagingResource(options.database ? databaseUrlOf(options.database) : undefined),
      neo4j: neo4jResource(),
    },
  });
}
