import { join } from "node:path";
import { createPool } from "../resources/postgres.ts";
import { settings } from "../resources/settings.ts";
import { startSampleApis } from "../samples/apis/server.ts";
import { ensureSecret } from "../stack/secrets.ts";
import { listenFailure, serveUntilSignal } from "./serving.ts";

/** `ingest sample-apis`: serves the chat, shop GraphQL and payments APIs until SIGTERM/SIGINT. */
export async function sampleApis(options: { port: number; data: string }): Promise<void> {
  const { chatApi, shopApi, paymentsApi, shopDatabaseUrl } = settings();
  const pool = createPool(shopDatabaseUrl);
  const apis = await startSampleApis({
    port: options.port,
    host: "127.0.0.1",
    // Generous limits, so that the bundled pipeline is not slowed at scale; tests start their own, stricter.
    chat: {
      dataDir: join(options.data, "chat", "api"),
      token: chatApi.token ?? ensureSecret("chat-api"),
      requestsPerSecond: 50,
    },
    // Shopify Plus' bucket and restore rate.
    shop: {
      pool,
      accessToken: shopApi.accessToken ?? ensureSecret("shop-api"),
      maximumAvailable: 20_000,
      restoreRate: 1_000,
    },
    payments: {
      dataDir: join(options.data, "payments", "api"),
      secretKey: paymentsApi.secretKey ?? ensureSecret("payments-api"),
      requestsPerSecond: 100,
    },
  }).catch(async (error: unknown) => {
    await pool.end();
    throw listenFailure(error, options.port, "the sample APIs");
  });
  const urls = `chat ${apis.chat!.url}, shop ${apis.shop!.url}, payments ${apis.payments!.url}`;
  await serveUntilSignal(`sample-apis ready ${apis.url} (${urls})`, async () => {
    await apis.close();
    await pool.end();
  });
}
