import type { Migration } from "kysely/migration";
import * as stagingTables from "./0001_staging_tables.ts";
import * as contentVersions from "./0002_content_versions_and_detached.ts";
import * as sourceState from "./0003_source_state.ts";
import * as sourceIdentity from "./0004_source_identity.ts";
import * as streams from "./0005_streams.ts";

/** The staging schema's migrations, in order; like the metadata store's, a shipped one is never edited. */
export const stagingMigrations: Record<string, Migration> = {
  "0001_staging_tables": stagingTables,
  "0002_content_versions_and_detached": contentVersions,
  "0003_source_state": sourceState,
  "0004_source_identity": sourceIdentity,
  "0005_streams": streams,
};
