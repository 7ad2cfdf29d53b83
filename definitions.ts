import * as support from "./assets/chat/support.ts";
import * as accounts from "./assets/crm/accounts.ts";
import * as sales from "./assets/crm/sales.ts";
import * as catalog from "./assets/ec/catalog.ts";
import * as customers from "./assets/ec/customers.ts";
import * as orders from "./assets/ec/orders.ts";
import * as reviews from "./assets/ec/reviews.ts";
import { dailySales } from "./assets/ec/sales.ts";
import * as analytics from "./assets/ec/analytics.ts";
import * as tracking from "./assets/ec/tracking.ts";
import * as variants from "./assets/ec/variants.ts";
import * as webSessions from "./assets/ec/web-sessions.ts";
import * as orderEvents from "./assets/ec/order-events.ts";
import * as stock from "./assets/ec/stock.ts";
import * as liveMessages from "./assets/chat/live-messages.ts";
import { persons } from "./assets/people/persons.ts";
import type { AssetDefinition } from "./engine/asset.ts";
import { defineDefinitions } from "./engine/definitions.ts";
import { defineResource } from "./engine/resource.ts";
import { chromaResource } from "./connectors/chroma/index.ts";
import { embedderResource } from "./resources/embedder-resource.ts";
import { neo4jResource } from "./connectors/neo4j/index.ts";
import { postgresResource } from "./connectors/postgres/index.ts";
import { mariadbResource } from "./connectors/mariadb/index.ts";
import { mongoResource } from "./connectors/mongodb/index.ts";
import { settings } from "./resources/settings.ts";
import { CrmClient } from "./connectors/crm-api/index.ts";
import { chatResource } from "./connectors/chat-api/index.ts";
import { shopGraphqlResource } from "./connectors/graphql/index.ts";
import { paymentsResource } from "./connectors/payments-api/index.ts";
import { stagingResource } from "./connectors/staging/index.ts";
import { kafkaResource, rabbitmqResource, webhookDeliveriesResource } from "./connectors/streams/index.ts";
import { schedules } from "./schedules/index.ts";
import { sensors } from "./sensors/index.ts";

const assetsOf = (...modules: Record<string, unknown>[]) =>
  modules.flatMap((m) =>
    Object.values(m).filter((v): v is AssetDefinition => typeof v === "object" && v !== null && "materialize" in v)
  );

/** This project's assets and the resources they use: what `ingest` loads unless given `--definitions`. */
export default defineDefinitions({
  assets: [
    ...assetsOf(
      catalog,
      customers,
      orders,
      reviews,
      analytics,
      tracking,
      variants,
      webSessions,
      accounts,
      sales,
      support,
      orderEvents,
      stock,
      liveMessages,
    ),
    persons,
    dailySales,
  ],
  schedules,
  sensors,
  // The sample sources are about 1% bad by design, and a small one a record in 30: dead letters are an
  // incident past 5%. Alerts go where INGEST_ALERT_WEBHOOK_URL and INGEST_ALERT_SMTP_URL say.
  alerts: { deadLetters: { fraction: 0.05 } },
  resources: {
    shop: postgresResource(() => settings().shopDatabaseUrl, { setting: "SHOP_DATABASE_URL" }),
    // The CRM's own database: the bundled project reads its deals there (MARIADB_URL, else the local stack's).
    crmDatabase: mariadbResource(),
    // The product catalogue and web sessions (MONGODB_URL, else the local stack's FerretDB).
    catalog: mongoResource(),
    staging: stagingResource(),
    // The real-time sources: KAFKA_BROKERS and RABBITMQ_URL, else the local stack's brokers.
    kafka: kafkaResource(),
    rabbitmq: rabbitmqResource(),
    // What `ingest webhooks` stored (the chat service's deliveries), in the framework's database.
    webhookDeliveries: webhookDeliveriesResource(),
    neo4j: neo4jResource(),
    chroma: chromaResource(),
    embedder: embedderResource(),
    // The SaaS-shaped APIs (the local stack's `sample-apis` unless CHAT_API_URL, SHOP_GRAPHQL_URL, PAYMENTS_API_URL).
    chat: chatResource(),
    shopApi: shopGraphqlResource({ requestsPerSecond: 50 }),
    payments: paymentsResource({ requestsPerSecond: 100 }),
    crm: defineResource({
      setup: () => {
        const { url, clientId, clientSecret } = settings().crm;
        if (!clientSecret) {
          throw new Error(
            "CRM_CLIENT_SECRET (or CRM_CLIENT_SECRET_FILE) is not set, and the local sample CRM has no secret yet: run `ingest stack up`",
          );
        }
        return new CrmClient({ baseUrl: url, clientId, clientSecret });
      },
    }),
  },
});
