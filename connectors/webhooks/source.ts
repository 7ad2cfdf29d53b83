import { createHmac, timingSafeEqual } from "node:crypto";
import { registerSecret } from "../../resources/redact.ts";

/**
 * How a sender signs its deliveries:
 *
 * - `"stripe"`: `X-Webhook-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, as Stripe
 *   signs (`Stripe-Signature`); several `v1=` may be given (a sender rolling its secret signs with both).
 * - `"zendesk"`: `X-Zendesk-Webhook-Signature: <base64 HMAC-SHA256(secret, timestamp + raw body)>` with
 *   `X-Zendesk-Webhook-Signature-Timestamp: <ISO 8601 time>`, as Zendesk signs.
 */
export type WebhookScheme = "stripe" | "zendesk";

/** What {@link defineWebhookSource} takes. */
export interface WebhookSourceSpec {
  /** The source's name, in its URL (`POST /webhooks/<name>`) and in every row it stores: `/^[a-z][a-z0-9_-]{0,62}$/`. */
  name: string;
  /** How its sender signs a delivery. */
  scheme: WebhookScheme;
  /**
   * The secrets a delivery may be signed with, asked at every delivery (so a rotated secret file is read
   * again): the new one and the old one while a sender rolls over. Read them from the environment or a
   * file, e.g. `() => [envSecret("WEBHOOK_SECRET_CHAT")].filter(Boolean)`; none is ever logged.
   */
  secrets: () => (string | undefined)[];
  /** The largest body accepted, in bytes (default 1 MiB): a larger one is refused with 413, unread. */
  maxBodyBytes?: number;
  /** How far a delivery's signed timestamp may be from now, in seconds (default 300): older ones are replays. */
  toleranceSeconds?: number;
}

/** A webhook source as {@link defineWebhookSource} made it: its spec with the defaults filled in. */
export interface WebhookSource {
  /** As given. */
  name: string;
  /** As given. */
  scheme: WebhookScheme;
  /** The secrets a delivery may be signed with, without empty ones; asked at every delivery. */
  secrets: () => string[];
  /** The largest body accepted, in bytes. */
  maxBodyBytes: number;
  /** How far a delivery's timestamp may be from now, in seconds. */
  toleranceSeconds: number;
}

const namePattern = /^[a-z][a-z0-9_-]{0,62}$/;
const schemes: readonly WebhookScheme[] = ["stripe", "zendesk"];

/**
 * A source of webhook deliveries (a Zendesk, Intercom or Stripe account posting events), served by
 * `ingest webhooks` at `POST /webhooks/<name>`: each delivery whose signature checks out is stored in
 * `ingest.webhook_deliveries` before it is answered. Throws on a bad name, scheme or limit.
 *
 * @example
 * ```ts
 * import { defineDefinitions, defineWebhookSource, envSecret } from "ingest-graph";
 *
 * const chat = defineWebhookSource({
 *   name: "chat",
 *   scheme: "zendesk",
 *   secrets: () => [envSecret("WEBHOOK_SECRET_CHAT"), envSecret("WEBHOOK_SECRET_CHAT_PREVIOUS")],
 * });
 * export default defineDefinitions({ assets, resources, webhookSources: [chat] });
 * ```
 */
export function defineWebhookSource(spec: WebhookSourceSpec): WebhookSource {
  const { name, scheme, secrets, maxBodyBytes = 1024 * 1024, toleranceSeconds = 300 } = spec;
  if (typeof name !== "string" || !namePattern.test(name)) {
    throw new Error(
      `webhook source name ${
        JSON.stringify(name)
      } is invalid: a lowercase letter, then up to 62 lowercase letters, digits, '_' or '-' (it goes in the URL /webhooks/<name>)`,
    );
  }
  if (!schemes.includes(scheme)) {
    throw new Error(
      `webhook source '${name}': scheme must be one of ${schemes.join(", ")}, not ${JSON.stringify(scheme)}`,
    );
  }
  if (typeof secrets !== "function") {
    throw new Error(`webhook source '${name}': secrets must be a function returning the secrets, read when asked`);
  }
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) {
    throw new Error(`webhook source '${name}': maxBodyBytes must be a positive whole number, not ${maxBodyBytes}`);
  }
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds <= 0) {
    throw new Error(`webhook source '${name}': toleranceSeconds must be a positive number, not ${toleranceSeconds}`);
  }
  return {
    name,
    scheme,
    secrets: () => {
      const given = secrets().filter((secret): secret is string => typeof secret === "string" && secret !== "");
      for (const secret of given) registerSecret(secret);
      return given;
    },
    maxBodyBytes,
    toleranceSeconds,
  };
}

/** The header names each scheme signs with, lowercase. */
export const signatureHeaders = {
  stripe: { signature: "x-webhook-signature" },
  zendesk: { signature: "x-zendesk-webhook-signature", timestamp: "x-zendesk-webhook-signature-timestamp" },
} as const;

const hmac = (secret: string, ...parts: (string | Uint8Array)[]) => {
  const mac = createHmac("sha256", secret);
  for (const part of parts) mac.update(part);
  return mac.digest();
};

/**
 * The headers a sender of `scheme` (or of `source`'s scheme) sends with `body`, signed with `secret` at
 * `timestamp` (default now): what tests, the sample generator and benchmarks post.
 *
 * @example
 * ```ts
 * const body = JSON.stringify({ type: "ticket.created", id: "evt_1" });
 * const response = await fetch(`${url}/webhooks/chat`, {
 *   method: "POST",
 *   body,
 *   headers: { "content-type": "application/json", "x-delivery-id": "evt_1", ...signDelivery("zendesk", secret, body) },
 * });
 * ```
 */
export function signDelivery(
  source: WebhookSource | WebhookScheme,
  secret: string,
  body: string | Uint8Array,
  timestamp: Date = new Date(),
): Record<string, string> {
  const scheme = typeof source === "string" ? source : source.scheme;
  if (scheme === "stripe") {
    const seconds = Math.floor(timestamp.getTime() / 1000);
    return {
      [signatureHeaders.stripe.signature]: `t=${seconds},v1=${hmac(secret, `${seconds}.`, body).toString("hex")}`,
    };
  }
  const time = timestamp.toISOString();
  return {
    [signatureHeaders.zendesk.signature]: hmac(secret, time, body).toString("base64"),
    [signatureHeaders.zendesk.timestamp]: time,
  };
}

/** Why a delivery was refused: the reasons `ingest.webhook_rejections` counts. */
export type RejectionReason =
  | "missing_signature"
  | "malformed_signature"
  | "stale_timestamp"
  | "bad_signature"
  | "too_large";

/** A delivery's signature as read from its headers, before its body is: what to check it against. */
export interface SignedHeaders {
  /** What the HMAC covers before the body: `"<t>."` (stripe) or the timestamp header as sent (zendesk). */
  prefix: string;
  /** The signatures given (several `v1=` under the stripe scheme). */
  signatures: Buffer[];
}

/**
 * Reads a delivery's signature and timestamp from its headers (`header(name)` with a lowercase name), and
 * checks the timestamp is within the source's tolerance of `now`: a refusal needs no body.
 */
export function readSignature(
  source: WebhookSource,
  header: (name: string) => string | undefined,
  now = Date.now(),
): SignedHeaders | { rejected: RejectionReason } {
  let seconds: number;
  let prefix: string;
  let signatures: Buffer[];
  if (source.scheme === "stripe") {
    const value = header(signatureHeaders.stripe.signature);
    if (!value) return { rejected: "missing_signature" };
    const pairs = value.split(",").map((pair) => pair.trim().split("="));
    const times = pairs.filter(([key]) => key === "t").map(([, v]) => v ?? "");
    const v1 = pairs.filter(([key]) => key === "v1").map(([, v]) => v ?? "");
    if (times.length !== 1 || !/^\d{1,12}$/.test(times[0]!) || v1.length === 0) {
      return { rejected: "malformed_signature" };
    }
    signatures = v1.filter((hex) => /^[0-9a-fA-F]{64}$/.test(hex)).map((hex) => Buffer.from(hex, "hex"));
    if (signatures.length === 0) return { rejected: "malformed_signature" };
    seconds = Number(times[0]);
    prefix = `${times[0]}.`;
  } else {
    const value = header(signatureHeaders.zendesk.signature);
    const time = header(signatureHeaders.zendesk.timestamp);
    if (!value || !time) return { rejected: "missing_signature" };
    const ms = Date.parse(time);
    const signature = Buffer.from(value.trim(), "base64");
    if (Number.isNaN(ms) || signature.length !== 32) return { rejected: "malformed_signature" };
    signatures = [signature];
    seconds = ms / 1000;
    prefix = time;
  }
  if (Math.abs(now / 1000 - seconds) > source.toleranceSeconds) return { rejected: "stale_timestamp" };
  return { prefix, signatures };
}

/**
 * Whether `body` carries one of the signatures read from its headers, under one of `secrets`: every
 * expected HMAC is compared with every given one in constant time (`crypto.timingSafeEqual`).
 */
export function signatureMatches(secrets: string[], signed: SignedHeaders, body: Uint8Array): boolean {
  let matched = false;
  for (const secret of secrets) {
    const expected = hmac(secret, signed.prefix, body);
    for (const given of signed.signatures) {
      // Not `||=`: every pair is compared, so the time taken says nothing of which one matched.
      if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
    }
  }
  return matched;
}

/**
 * The webhook sources of a project: those its definitions declare (`webhookSources`) and those its stream
 * assets read (`webhookDeliveries(source)`), each once; throws on two sources of one name.
 */
export function webhookSources(
  definitions: { webhookSources?: WebhookSource[]; assets?: readonly unknown[] },
): WebhookSource[] {
  const read = (definitions.assets ?? []).map((asset) =>
    (asset as { stream?: { webhook?: WebhookSource } } | undefined)?.stream?.webhook
  ).filter((source): source is WebhookSource => source !== undefined);
  const sources = [...new Set([...(definitions.webhookSources ?? []), ...read])];
  const problems = webhookSourceProblems(sources);
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return sources;
}

/** What is wrong with a project's webhook sources as a whole: names given twice. */
export function webhookSourceProblems(sources: WebhookSource[] | undefined): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const source of sources ?? []) {
    if (seen.has(source.name)) problems.push(`webhook source '${source.name}' is declared twice`);
    seen.add(source.name);
  }
  return problems;
}
