/**
 * Web-shop sessions, from MongoDB's `sessions`: who (if logged in), when, on what device, and the
 * pages viewed, nested. A session becomes a `(:Session)` node, linked to its customer.
 */
import type { Db } from "mongodb";
import { z } from "zod";
import { observeCollection, readCollection } from "../../connectors/mongodb/index.ts";
import { defineNodeAsset, defineRelationshipAsset } from "../../connectors/neo4j/index.ts";
import { defineStagedAsset } from "../../connectors/staging/index.ts";
import { field, fromSource } from "../shared/clean.ts";
import { customerNodes } from "./customers.ts";

/** A session; `pages` must be the array of page views (a count in its place is type drift, dead-lettered). */
export const WebSession = fromSource(
  z.object({
    sessionId: field.id,
    customerId: field.optionalId,
    startedAt: field.timestamp,
    endedAt: field.optionalTimestamp,
    device: field.optionalText,
    os: field.optionalText,
    browser: field.optionalText,
    pages: z.array(fromSource(z.object({ path: field.text, at: field.timestamp, productId: field.optionalId }), {})),
  }),
  { device: ["device.type"], os: ["device.os"], browser: ["device.browser"] },
).transform(({ pages, ...session }) => ({
  ...session,
  pageViews: pages.length,
  viewedProducts: [...new Set(pages.flatMap((page) => (page.productId ? [page.productId] : [])))],
}));
export type WebSession = z.infer<typeof WebSession>;

export const stagedWebSessions = defineStagedAsset<WebSession, { catalog: Db }>({
  key: "ec/web_sessions",
  codeVersion: "1",
  table: "ec_web_sessions",
  source: "MongoDB catalog.sessions",
  model: WebSession,
  sourceKey: (s) => s.sessionId,
  rawKey: (raw) => raw.sessionId,
  resources: ["catalog"],
  // Sessions are only ever added: their count and the latest start say when there are new ones.
  observe: ({ resources: { catalog } }) => observeCollection(catalog, "sessions", { updatedAt: "startedAt" }),
  // In the server's own order: FerretDB v1 serves it 1.6 times as fast as sorted by _id, and keys are unique.
  extract: ({ resources: { catalog } }) => readCollection(catalog, "sessions"),
});

export const webSessionNodes = defineNodeAsset<WebSession>({
  key: "graph/Session",
  codeVersion: "1",
  label: "Session",
  keyProperty: "sessionId",
  indexes: ["customerId"],
  from: stagedWebSessions,
  properties: (s) => ({ ...s }),
});

/** `(:Customer)-[:HAD_SESSION]->(:Session)`, for sessions of a logged-in customer. */
export const hadSession = defineRelationshipAsset<WebSession>({
  key: "graph/HAD_SESSION",
  codeVersion: "1",
  type: "HAD_SESSION",
  from: stagedWebSessions,
  where: (s) => s.customerId !== null,
  start: { node: customerNodes, value: (s) => s.customerId },
  end: { node: webSessionNodes, value: (s) => s.sessionId },
});
