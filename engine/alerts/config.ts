import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { registerSecret } from "../../resources/redact.ts";
import { envSecret, projectDir } from "../../resources/settings.ts";
import type { RetryPolicy } from "../asset.ts";

/**
 * Where and how the daemon (`ingest daemon`) tells you that something is wrong: a run failed, an asset's
 * open dead letters passed a threshold, an asset missed its freshness target, a worker died. Each such
 * condition opens an incident (one open per kind and subject), which resolves when the condition clears;
 * each opening and resolution goes to every channel: the webhooks and the e-mail given here, and those
 * the environment names (`INGEST_ALERT_WEBHOOK_URL`, `INGEST_ALERT_SMTP_URL`, …). Without a channel,
 * incidents are still recorded: `ingest alerts` shows them.
 *
 * @example
 * ```ts
 * export default defineDefinitions({
 *   assets,
 *   resources,
 *   alerts: {
 *     webhooks: [{ url: "https://hooks.example.com/ingest", secret: process.env.ALERT_SECRET }],
 *     email: { smtp: "smtp://alerts:pw@mail.example.com:587", from: "ingest@example.com", to: ["data-oncall@example.com"] },
 *     deadLetters: { fraction: 0.02 },
 *   },
 * });
 * ```
 */
export interface AlertsConfig {
  /** Names the project in alerts, e-mail subjects among them (default: the name in the project's package.json). */
  project?: string;
  /** Webhooks to POST each incident's opening and resolution to, as JSON. */
  webhooks?: WebhookChannelConfig[];
  /** An SMTP server and the addresses to send each incident's opening and resolution to, as plain text. */
  email?: EmailChannelConfig;
  /**
   * When an asset's open dead letters are an incident (default `{ fraction: 0.01 }`: more than 1% of what
   * its latest materialisations extracted); `false` turns the condition off.
   */
  deadLetters?: DeadLetterThreshold | false;
  /** Deliver resolutions as well as openings (default true). */
  notifyResolved?: boolean;
  /** How often, in milliseconds, the conditions are checked (default 15 000). */
  intervalMs?: number;
  /**
   * How a delivery that failed is tried again (default 8 attempts in all, 2 s before the second, doubling
   * up to 5 min, ± 20%): a connection error, a timeout, HTTP 408, 429 (after its `Retry-After`, up to an
   * hour) and 5xx, or an SMTP error other than a permanent 5xx rejection.
   */
  retry?: RetryPolicy;
  /** How long, in milliseconds, one delivery attempt may take (default 10 000). */
  timeoutMs?: number;
}

/** A webhook channel: see {@link AlertsConfig}. */
export interface WebhookChannelConfig {
  /**
   * Where to POST (`http:` or `https:`). Treated as a secret (chat webhooks carry their token in the path):
   * never logged.
   */
  url: string;
  /**
   * Signs each POST (HMAC-SHA256 over `<unix seconds>.<body>`, in `X-Ingest-Signature: t=<seconds>,v1=<hex>`)
   * when given; {@link verifyWebhookSignature} checks it. Never logged.
   */
  secret?: string;
  /** Extra headers, such as `Authorization`; their values are never logged. */
  headers?: Record<string, string>;
  /** Names the channel in `ingest alerts` and the delivery records (default `webhook:<origin>#<hash of the URL>`). */
  name?: string;
}

/** An e-mail channel: see {@link AlertsConfig}. */
export interface EmailChannelConfig {
  /**
   * The SMTP server as a URL: `smtp://user:password@host:587` (STARTTLS when the server offers it) or
   * `smtps://…:465` (TLS from the start). The password is never logged.
   */
  smtp: string;
  /** The sender address. */
  from: string;
  /** The recipients. */
  to: string | string[];
  /** Names the channel in `ingest alerts` and the delivery records (default `email:<recipients>#<hash>`). */
  name?: string;
}

/**
 * When an asset's open dead letters (`ingest dead-letters`) are an incident: more than `fraction` of what
 * its latest successful materialisation of each partition extracted, or more than `count` whatever it
 * extracted. An asset that reports no `extracted` count is judged by `count` alone.
 */
export interface DeadLetterThreshold {
  /** A fraction of the records extracted, above 0 and at most 1 (default 0.01). */
  fraction?: number;
  /** A number of open dead letters (default: none, only the fraction counts). */
  count?: number;
}

/** Alerts as the daemon runs them: defaults filled in, channels from the definitions and the environment. */
export interface ResolvedAlerts {
  project: string;
  channels: ChannelSpec[];
  deadLetters: Required<Pick<DeadLetterThreshold, "fraction">> & { count?: number } | false;
  notifyResolved: boolean;
  intervalMs: number;
  retry: RetryPolicy;
  timeoutMs: number;
}

/** A channel's configuration and the id its deliveries are recorded under. */
export type ChannelSpec =
  & { id: string; description: string }
  & ({ kind: "webhook"; config: WebhookChannelConfig } | {
    kind: "email";
    config: EmailChannelConfig & { to: string[] };
  });

export const defaultRetry: RetryPolicy = {
  maxAttempts: 8,
  initialDelayMs: 2_000,
  factor: 2,
  maxDelayMs: 300_000,
  jitter: 0.2,
};

const address = /^[^\s@<>]+@[^\s@<>]+$/;

/** What is wrong with a project's alerts, each problem a sentence naming the field. */
export function alertProblems(config: AlertsConfig | undefined): string[] {
  if (config === undefined) return [];
  const problems: string[] = [];
  const what = (field: string) => `alerts.${field}`;
  (config.webhooks ?? []).forEach((hook, i) => problems.push(...webhookProblems(hook, what(`webhooks[${i}]`))));
  if (config.email) problems.push(...emailProblems(config.email, what("email")));
  const positive = (value: number | undefined, field: string) => {
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      problems.push(`${what(field)} must be a positive number, got ${value}`);
    }
  };
  if (config.deadLetters) {
    const { fraction, count } = config.deadLetters;
    if (fraction !== undefined && !(fraction > 0 && fraction <= 1)) {
      problems.push(`${what("deadLetters.fraction")} must be above 0 and at most 1, got ${fraction}`);
    }
    if (count !== undefined && !(Number.isInteger(count) && count >= 0)) {
      problems.push(`${what("deadLetters.count")} must be a whole number ≥ 0, got ${count}`);
    }
  }
  positive(config.intervalMs, "intervalMs");
  positive(config.timeoutMs, "timeoutMs");
  if (config.retry && !(Number.isInteger(config.retry.maxAttempts) && config.retry.maxAttempts >= 1)) {
    problems.push(`${what("retry.maxAttempts")} must be a whole number ≥ 1, got ${config.retry.maxAttempts}`);
  }
  const names = [...(config.webhooks ?? []), ...(config.email ? [config.email] : [])].map((c) => c.name).filter(
    Boolean,
  );
  for (const name of new Set(names.filter((n, i) => names.indexOf(n) !== i))) {
    problems.push(`alerts: the channel name '${name}' is given twice`);
  }
  return problems;
}

function webhookProblems(hook: WebhookChannelConfig, field: string): string[] {
  if (!hook.url || !URL.canParse(hook.url)) return [`${field}.url is not a URL`];
  const { protocol } = new URL(hook.url);
  return protocol === "http:" || protocol === "https:" ? [] : [`${field}.url must be http: or https:, not ${protocol}`];
}

function emailProblems(email: EmailChannelConfig, field: string): string[] {
  const problems: string[] = [];
  if (!email.smtp || !URL.canParse(email.smtp)) problems.push(`${field}.smtp is not a URL such as smtp://host:587`);
  else if (!["smtp:", "smtps:"].includes(new URL(email.smtp).protocol)) {
    problems.push(`${field}.smtp must be smtp: or smtps:, not ${new URL(email.smtp).protocol}`);
  }
  if (!address.test(email.from ?? "")) problems.push(`${field}.from is not an e-mail address: '${email.from}'`);
  const to = recipients(email.to);
  if (to.length === 0) problems.push(`${field}.to names no recipient`);
  for (const bad of to.filter((a) => !address.test(a))) problems.push(`${field}.to: '${bad}' is not an e-mail address`);
  return problems;
}

const recipients = (to: string | string[] | undefined) =>
  (Array.isArray(to) ? to : (to ?? "").split(",")).map((a) => a.trim()).filter(Boolean);

const short = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 8);

/**
 * The project's alerts with the environment's channels added: `INGEST_ALERT_WEBHOOK_URL` (and
 * `INGEST_ALERT_WEBHOOK_SECRET`), and `INGEST_ALERT_SMTP_URL` with `INGEST_ALERT_EMAIL_FROM` and
 * `INGEST_ALERT_EMAIL_TO` (comma-separated); each may be read from the file `<NAME>_FILE` names. Every
 * secret (webhook URLs and secrets, header values, SMTP passwords) is registered for redaction. Throws
 * when the environment names an incomplete or invalid channel.
 */
export function resolveAlerts(config: AlertsConfig = {}): ResolvedAlerts {
  const webhooks = [...(config.webhooks ?? [])];
  const envUrl = envSecret("INGEST_ALERT_WEBHOOK_URL");
  const envSecretValue = envSecret("INGEST_ALERT_WEBHOOK_SECRET");
  if (envSecretValue && !envUrl) {
    throw new Error("INGEST_ALERT_WEBHOOK_SECRET is set, but INGEST_ALERT_WEBHOOK_URL is not");
  }
  if (envUrl) {
    const hook = { url: envUrl, ...(envSecretValue && { secret: envSecretValue }) };
    const problems = webhookProblems(hook, "INGEST_ALERT_WEBHOOK_URL");
    if (problems.length > 0) throw new Error(problems.join("; "));
    const same = webhooks.findIndex((w) => w.url === envUrl);
    if (same >= 0) webhooks[same] = { ...webhooks[same]!, ...hook };
    else webhooks.push(hook);
  }
  const emails = config.email ? [config.email] : [];
  const smtp = envSecret("INGEST_ALERT_SMTP_URL");
  const from = process.env.INGEST_ALERT_EMAIL_FROM;
  const to = process.env.INGEST_ALERT_EMAIL_TO;
  if (smtp || from || to) {
    const missing = [
      ["INGEST_ALERT_SMTP_URL", smtp],
      ["INGEST_ALERT_EMAIL_FROM", from],
      ["INGEST_ALERT_EMAIL_TO", to],
    ].filter(([, value]) => !value).map(([name]) => name);
    if (missing.length > 0) throw new Error(`e-mail alerts need ${missing.join(" and ")} as well`);
    const email = { smtp: smtp!, from: from!, to: recipients(to) };
    const problems = emailProblems(email, "the INGEST_ALERT_ e-mail settings");
    if (problems.length > 0) throw new Error(problems.join("; "));
    emails.push(email);
  }
  const channels: ChannelSpec[] = [];
  for (const hook of webhooks) {
    registerSecret(hook.url);
    registerSecret(hook.secret);
    for (const value of Object.values(hook.headers ?? {})) registerSecret(value);
    const origin = new URL(hook.url).origin;
    channels.push({
      kind: "webhook",
      id: hook.name ?? `webhook:${origin}#${short(hook.url)}`,
      description: `webhook ${origin}${hook.secret ? ", signed" : ""}`,
      config: hook,
    });
  }
  for (const email of emails) {
    const server = new URL(email.smtp);
    registerSecret(decodeURIComponent(server.password));
    const list = recipients(email.to);
    channels.push({
      kind: "email",
      id: email.name ?? `email:${list.join(",")}#${short(`${server.host}\n${list.join(",")}`)}`,
      description: `e-mail to ${list.join(", ")} via ${server.host}`,
      config: { ...email, to: list },
    });
  }
  const unique = new Map(channels.map((c) => [c.id, c]));
  return {
    project: config.project ?? projectName(),
    channels: [...unique.values()],
    deadLetters: config.deadLetters === false ? false : { fraction: 0.01, ...config.deadLetters },
    notifyResolved: config.notifyResolved ?? true,
    intervalMs: config.intervalMs ?? 15_000,
    retry: { ...defaultRetry, ...config.retry },
    timeoutMs: config.timeoutMs ?? 10_000,
  };
}

/** The name in the project's package.json, else its folder's name. */
function projectName(): string {
  const file = join(projectDir, "package.json");
  try {
    const name = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as { name?: string }).name : undefined;
    return name || basename(projectDir);
  } catch {
    return basename(projectDir);
  }
}
