import { join } from "node:path";
import { createPool } from "../resources/postgres.ts";
import { settings } from "../resources/settings.ts";
import { startSampleApis } from "../samples/apis/server.ts";
import { ensureSecret } from "../stack/secrets.ts";

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
    if ((error as { code?: string }).code !== "EADDRINUSE") throw error;
    throw new Error(
      `port ${options.port} on 127.0.0.1 is in use: the local stack may serve the sample APIs there already (ingest stack status); give another with --port`,
    );
  });
  // The handlers go in before "ready" is printed: a signal sent on reading it must find them.
  const stopped = new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  console.log(
    `sample-apis ready ${apis.url} (chat ${apis.chat!.url}, shop ${apis.shop!.url}, payments ${apis.payments!.url})`,
  );
  await stopped;
  await apis.close();
  await pool.end();
}
