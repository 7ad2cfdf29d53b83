import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { createPool } from "../../resources/postgres.ts";
import { startSampleApis } from "./server.ts";

/** Sample APIs of a run's own, and the environment that points the bundled assets at them. */
export interface ScratchSampleApis {
  /** `CHAT_API_URL`, `CHAT_API_TOKEN`, `SHOP_GRAPHQL_URL`, `SHOP_ACCESS_TOKEN`, `PAYMENTS_API_URL`, `PAYMENTS_SECRET_KEY`. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/**
 * The sample chat, shop GraphQL and payments APIs over scratch data (a bench's or a test's generated
 * `sourcesDir` and shop database), with fresh secrets and limits too high to slow a run down.
 *
 * @example
 * const apis = await startScratchSampleApis(sourcesDir, shopUrl);
 * const env = { ...process.env, ...apis.env, INGEST_SOURCES_DIR: sourcesDir, SHOP_DATABASE_URL: shopUrl };
 * // … run the pipeline with env, then:
 * await apis.close();
 */
export async function startScratchSampleApis(sourcesDir: string, shopDatabaseUrl: string): Promise<ScratchSampleApis> {
  const secret = () => randomBytes(18).toString("base64url");
  const secrets = { chat: secret(), shop: secret(), payments: `sk_test_${secret()}` };
  const pool = createPool(shopDatabaseUrl);
  const apis = await startSampleApis({
    chat: { dataDir: join(sourcesDir, "chat", "api"), token: secrets.chat, requestsPerSecond: 10_000 },
    shop: { pool, accessToken: secrets.shop, maximumAvailable: 1_000_000, restoreRate: 1_000_000 },
    payments: { dataDir: join(sourcesDir, "payments", "api"), secretKey: secrets.payments, requestsPerSecond: 10_000 },
  }).catch(async (error) => {
    await pool.end();
    throw error;
  });
  return {
    env: {
      CHAT_API_URL: apis.chat!.url,
      CHAT_API_TOKEN: secrets.chat,
      SHOP_GRAPHQL_URL: apis.shop!.url,
      SHOP_ACCESS_TOKEN: secrets.shop,
      PAYMENTS_API_URL: apis.payments!.url,
      PAYMENTS_SECRET_KEY: secrets.payments,
    },
    async close() {
      await apis.close();
      await pool.end();
    },
  };
}
