import type { ResourceDefinition } from "../../engine/resource.ts";
import { settings } from "../../resources/settings.ts";
import { apiClientResource } from "../http/resource.ts";
import { ChatClient, type ChatClientOptions } from "./client.ts";

/**
 * A {@link ChatClient} as a resource: the API at `CHAT_API_URL` with the token `CHAT_API_TOKEN` (or
 * `CHAT_API_TOKEN_FILE`), else the local stack's sample chat API and its generated token. `options` set
 * the client's patience (rate, retries, timeouts).
 *
 * @example
 * ```ts
 * resources: { chat: chatResource() },
 * // in a staged asset with resources: ["chat"]:
 * extract: ({ resources: { chat } }) => chat.tickets({ startTime: 0 }),
 * ```
 */
export function chatResource(
  options: Omit<ChatClientOptions, "baseUrl" | "token"> = {},
): ResourceDefinition<ChatClient> {
  return apiClientResource(
    "chat-api",
    { variable: "CHAT_API_TOKEN", value: () => settings().chatApi.token, sample: "the local sample chat API" },
    (token) => new ChatClient({ ...options, baseUrl: settings().chatApi.url, token }),
  );
}
