import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { chatApi, type ChatApiOptions, type ChatApiStats } from "./chat.ts";
import { closeServer, listen, type MountedApi, sendJson } from "./http.ts";
import { paymentsApi, type PaymentsApiOptions, type PaymentsApiStats } from "./payments.ts";
import { shopApi, type ShopApiOptions, type ShopApiStats, shopGraphqlPath } from "./shop.ts";

/** Which APIs to serve (each left out unless given) and where. */
export interface SampleApisOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The Zendesk-shaped chat API, under `/chat`. */
  chat?: ChatApiOptions;
  /** The Shopify-shaped GraphQL API, under `/shop`. */
  shop?: ShopApiOptions;
  /** The Stripe-shaped payments API, under `/payments`. */
  payments?: PaymentsApiOptions;
}

/** One served API: the URL its client is given, and what it saw. */
export interface ServedApi<S> {
  url: string;
  stats: S;
}

/** The running server: each API's URL and stats, and `close`. */
export interface SampleApis {
  url: string;
  /** `url` is the chat API's base (`<url>/chat`): the client resolves `/api/v2/…` against it. */
  chat?: ServedApi<ChatApiStats>;
  /** `url` is the GraphQL endpoint itself (`<url>/shop/admin/api/2025-01/graphql.json`). */
  shop?: ServedApi<ShopApiStats>;
  /** `url` is the payments API's base (`<url>/payments`): the client resolves `/v1/…` against it. */
  payments?: ServedApi<PaymentsApiStats>;
  close(): Promise<void>;
}

/**
 * Serves the sample chat, shop GraphQL and payments APIs from one process, each under its own path prefix
 * (`/chat`, `/shop`, `/payments`), as `ingest sample-apis` does for the local stack.
 *
 * @example
 * const apis = await startSampleApis({
 *   chat: { dataDir: "out/chat/api", token: "t0ken", failureRate: 0.05 },
 *   payments: { dataDir: "out/payments/api", secretKey: "sk_test_123" },
 * });
 * console.log(apis.chat!.url, apis.payments!.stats);
 * await apis.close();
 */
export async function startSampleApis(options: SampleApisOptions): Promise<SampleApis> {
  const mounted: [string, MountedApi<unknown>][] = [];
  const chat = options.chat && chatApi(options.chat);
  const shop = options.shop && shopApi(options.shop);
  const payments = options.payments && paymentsApi(options.payments);
  if (chat) mounted.push(["/chat", chat]);
  if (shop) mounted.push(["/shop", shop]);
  if (payments) mounted.push(["/payments", payments]);

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", `http://${request.headers.host ?? "localhost"}`);
    for (const [prefix, api] of mounted) {
      if (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`)) {
        return api.handle(request, response, url.pathname.slice(prefix.length), url);
      }
    }
    sendJson(response, 404, {
      error: `nothing is served at ${url.pathname}; APIs: ${mounted.map(([p]) => p).join(", ")}`,
    });
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: Error & { code?: string; path?: string }) => {
      if (response.headersSent) response.destroy(error);
      // Nothing generated yet: say so, and not as a failure worth retrying.
      else if (error.code === "ENOENT") {
        sendJson(response, 404, { error: "no data", message: `${error.path} does not exist: run \`ingest generate\`` });
      } else sendJson(response, 500, { error: "internal", message: error.message });
    });
  });
  const url = await listen(server, options.port ?? 0, options.host ?? "127.0.0.1");
  return {
    url,
    ...(chat ? { chat: { url: `${url}/chat`, stats: chat.stats } } : {}),
    ...(shop ? { shop: { url: `${url}/shop${shopGraphqlPath}`, stats: shop.stats } } : {}),
    ...(payments ? { payments: { url: `${url}/payments`, stats: payments.stats } } : {}),
    close: () => closeServer(server),
  };
}
