import { defineAsset } from "../../engine/asset.ts";
import { versionHash } from "../../engine/versions.ts";
import { type Driver, ensureUniqueKey, runInBatches } from "../../connectors/neo4j/index.ts";
import { customerNodes } from "../ec/customers.ts";
import { contactNodes } from "../crm/accounts.ts";
import { sessionNodes } from "../chat/support.ts";

/**
 * Identity resolution: one `(:Person)` per normalised email (the models normalise case and
 * whitespace), linked `(:Person)-[:IS]->(:Customer|:Contact)` and `(:Person)-[:STARTED]->(:ChatSession)`.
 * Links whose node's email changed since are removed, so the resolution follows the sources. By 06:00
 * each morning in Berlin it has been rebuilt since 06:00 the day before (the nightly refresh at 02:00
 * and the eager sensor see to it), or `ingest daemon` alerts.
 */
export const persons = defineAsset<{ neo4j: Driver }>({
  key: "graph/Person",
  group: "graph",
  codeVersion: "1",
  freshness: { cron: "0 6 * * *", timezone: "Europe/Berlin" },
  deps: [customerNodes.key, contactNodes.key, sessionNodes.key],
  resources: ["neo4j"],
  target: { kind: "neo4j-nodes", label: "Person", keyProperty: "email" },
  async materialize({ resources: { neo4j }, runId, assetKey, upstreamVersions }) {
    await ensureUniqueKey(neo4j, "Person", "email");
    const lineage = { runId, asset: assetKey };
    const link = async (label: string, emailProperty: string, type: string) => {
      const records = await runInBatches(
        neo4j,
        `MATCH (n:${label}) WHERE n.${emailProperty} IS NOT NULL
         CALL (n) {
           MERGE (p:Person {email: n.${emailProperty}})
           ON CREATE SET p.ingestRunId = $runId, p.ingestAsset = $asset, p.ingestSource = 'identity-resolution', p.ingestSourceKey = n.${emailProperty}
           MERGE (p)-[:${type}]->(n)
         } IN TRANSACTIONS OF 5000 ROWS
         RETURN count(n) AS linked`,
        lineage,
      );
      // A node whose email changed keeps no link to its former person.
      await neo4j.executeQuery(
        `MATCH (p:Person)-[r:${type}]->(n:${label}) WHERE n.${emailProperty} IS NULL OR n.${emailProperty} <> p.email DELETE r`,
      );
      return records[0]!.get("linked").toNumber() as number;
    };
    const customers = await link("Customer", "email", "IS");
    const contacts = await link("Contact", "email", "IS");
    const sessions = await link("ChatSession", "requesterEmail", "STARTED");
    await neo4j.executeQuery("MATCH (p:Person) WHERE NOT (p)--() DELETE p");
    const stats = await neo4j.executeQuery(
      `MATCH (p:Person)
       WITH p, count { (p)-[:IS]->(:Customer) } AS c, count { (p)-[:IS]->(:Contact) } AS k, count { (p)-[:STARTED]->() } AS s
       RETURN count(p) AS persons, sum(CASE WHEN c > 0 AND k > 0 THEN 1 ELSE 0 END) AS customerAndContact,
              sum(CASE WHEN c > 0 AND s > 0 THEN 1 ELSE 0 END) AS customerAndChat`,
    );
    const row = stats.records[0]!;
    const counts = {
      persons: row.get("persons").toNumber(),
      customersLinked: customers,
      contactsLinked: contacts,
      sessionsLinked: sessions,
      customerAndContact: row.get("customerAndContact").toNumber(),
      customerAndChat: row.get("customerAndChat").toNumber(),
    };
    // What it builds is a function of what it read.
    const dataVersion = versionHash(JSON.stringify([upstreamVersions, "1"]));
    return { counts, dataVersion };
  },
});
