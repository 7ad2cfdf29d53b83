/**
 * A request to an API that failed for good: the message names the API, the method and URL and the last
 * status with the server's own explanation, and never a secret.
 *
 * @example
 * ```ts
 * try {
 *   for await (const charge of payments.list("charges")) console.log(charge.id);
 * } catch (error) {
 *   if (error instanceof ApiError && error.status === 401) console.error(`${error.source}: check its key`);
 *   throw error;
 * }
 * ```
 */
export class ApiError extends Error {
  /** `"ApiError"`, or the subclass's name. */
  override name = "ApiError";
  /** The API, as its client names it (`"chat API"`, `"payments API"`). */
  readonly source: string;
  /** The URL requested, without credentials. */
  readonly url: string;
  /** The last HTTP status, or undefined when no response came (a timeout, the network). */
  readonly status: number | undefined;
  /** The API's own error code or type, when it gave one (`idempotency_error`, `THROTTLED`, `RATE_LIMITS`). */
  readonly code: string | undefined;

  /** A failure of the request to `url`; `status` and `code` as above. */
  constructor(
    message: string,
    details: {
      /** The API's name. */
      source: string;
      /** The URL requested, without credentials. */
      url: string;
      /** The last HTTP status, if a response came. */
      status: number | undefined;
      /** The API's own error code or type. */
      code?: string;
    },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.source = details.source;
    this.url = details.url;
    this.status = details.status;
    this.code = details.code;
  }
}

/** What an error body says, in the shapes the APIs use: OAuth, HubSpot, Stripe, Zendesk, Shopify. */
export interface ErrorDetail {
  text: string;
  code: string | undefined;
}

const stringOf = (value: unknown): string | undefined => (typeof value === "string" && value ? value : undefined);

/** The server's own explanation of a failed response, shortened; its error code when it has one. */
export async function responseDetail(response: Response): Promise<ErrorDetail> {
  const text = (await response.text().catch(() => "")).slice(0, 2000);
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    const nested = typeof body.error === "object" && body.error !== null
      ? body.error as Record<string, unknown>
      : undefined;
    const explanation = stringOf(nested?.message) ?? stringOf(body.error_description) ?? stringOf(body.message) ??
      stringOf(body.description) ?? stringOf(body.errors) ?? stringOf(body.error);
    const code = stringOf(nested?.code) ?? stringOf(nested?.type) ?? stringOf(body.category) ??
      (nested ? undefined : stringOf(body.error));
    if (explanation) return { text: explanation.slice(0, 300), code };
  } catch {
    // not JSON: the text itself
  }
  return { text: text.replace(/\s+/g, " ").trim().slice(0, 200), code: undefined };
}

/** A URL fit for messages and logs: credentials in it, if any, removed. */
export function safeUrl(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const copy = new URL(url);
  copy.username = "";
  copy.password = "";
  return copy.href;
}

/** An error's message with its cause's code or message, as fetch reports network failures. */
export const errorText = (error: unknown): string => {
  const e = error as { message?: string; cause?: { message?: string; code?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return `${e.message ?? String(error)}${cause ? ` (${cause})` : ""}`;
};
