import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { IncidentRow } from "../../db/schema.ts";
import { alertProblems, resolveAlerts } from "../../engine/alerts/config.ts";
import { alertMessage, emailSubject, emailText } from "../../engine/alerts/message.ts";
import { retryAfter, signature, verifyWebhookSignature } from "../../engine/alerts/webhook.ts";
import { defineAsset, DefinitionError } from "../../engine/asset.ts";
import { defineDefinitions } from "../../engine/definitions.ts";
import { redactText } from "../../resources/redact.ts";

describe("webhook signatures", () => {
  const body = '{"event":"opened","kind":"run-failed"}';
  const now = new Date("2026-12-04T10:00:00Z");
  const seconds = now.getTime() / 1000;

  it("are HMAC-SHA256 over `<timestamp>.<body>`, as a receiver computes it by hand", () => {
    const expected = createHmac("sha256", "s3cret").update(`${seconds}.${body}`).digest("hex");
    expect(signature("s3cret", body, seconds)).toBe(`t=${seconds},v1=${expected}`);
  });

  it("verify with the secret, the exact body and a recent timestamp only", () => {
    const header = signature("s3cret", body, seconds);
    expect(verifyWebhookSignature("s3cret", header, body, 300, now)).toBe(true);
    expect(verifyWebhookSignature("another", header, body, 300, now)).toBe(false);
    expect(verifyWebhookSignature("s3cret", header, body.replace("opened", "resolved"), 300, now)).toBe(false);
    expect(verifyWebhookSignature("s3cret", header, body, 300, new Date(now.getTime() + 301_000))).toBe(false);
    expect(verifyWebhookSignature("s3cret", undefined, body, 300, now)).toBe(false);
    expect(verifyWebhookSignature("s3cret", "t=1,v1=zz", body, 300, now)).toBe(false);
    expect(verifyWebhookSignature("s3cret", [header], body, 300, now)).toBe(false);
  });
});

describe("Retry-After", () => {
  it("is read as seconds or as an HTTP date", () => {
    const now = Date.parse("2026-12-04T10:00:00Z");
    expect(retryAfter("120", now)).toBe(120_000);
    expect(retryAfter("Fri, 04 Dec 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(retryAfter("Fri, 04 Dec 2026 09:00:00 GMT", now)).toBe(0);
    expect(retryAfter(null, now)).toBeUndefined();
    expect(retryAfter("soon", now)).toBeUndefined();
  });
});

describe("alert configuration", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) if (name.startsWith("INGEST_ALERT_")) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it("is checked with the definitions, each problem naming its field", () => {
    const asset = defineAsset({ key: "shop/orders", codeVersion: "1", materialize: async () => ({}) });
    const load = (alerts: unknown) => () =>
      defineDefinitions({ assets: [asset], resources: {}, alerts: alerts as never });
    expect(load({ webhooks: [{ url: "https://hooks.example.com/x", secret: "abc" }] })).not.toThrow();
    expect(load({ webhooks: [{ url: "ftp://example.com" }] })).toThrow(DefinitionError);
    expect(alertProblems({
      webhooks: [{ url: "not a url" }, { url: "ftp://example.com/x" }],
      email: { smtp: "http://mail", from: "nobody", to: [] },
      deadLetters: { fraction: 2, count: -1 },
      intervalMs: 0,
      retry: { maxAttempts: 0 },
    })).toEqual([
      "alerts.webhooks[0].url is not a URL",
      "alerts.webhooks[1].url must be http: or https:, not ftp:",
      "alerts.email.smtp must be smtp: or smtps:, not http:",
      "alerts.email.from is not an e-mail address: 'nobody'",
      "alerts.email.to names no recipient",
      "alerts.deadLetters.fraction must be above 0 and at most 1, got 2",
      "alerts.deadLetters.count must be a whole number ≥ 0, got -1",
      "alerts.intervalMs must be a positive number, got 0",
      "alerts.retry.maxAttempts must be a whole number ≥ 1, got 0",
    ]);
  });

  it("takes channels from the environment too, and registers their secrets for redaction", () => {
    process.env.INGEST_ALERT_WEBHOOK_URL = "https://hooks.example.com/services/T0/B0/token-in-the-path";
    process.env.INGEST_ALERT_WEBHOOK_SECRET = "whsec-from-the-environment";
    process.env.INGEST_ALERT_SMTP_URL = "smtp://alerts:mail-password-42@mail.example.com:587";
    process.env.INGEST_ALERT_EMAIL_FROM = "ingest@example.com";
    process.env.INGEST_ALERT_EMAIL_TO = "a@example.com, b@example.com";
    const alerts = resolveAlerts({ webhooks: [{ url: "https://other.example.com/hook", name: "ops" }] });
    expect(alerts.channels.map((c) => [c.id, c.description])).toEqual([
      ["ops", "webhook https://other.example.com"],
      [
        expect.stringMatching(/^webhook:https:\/\/hooks\.example\.com#[0-9a-f]{8}$/),
        "webhook https://hooks.example.com, signed",
      ],
      [
        expect.stringMatching(/^email:a@example\.com,b@example\.com#[0-9a-f]{8}$/),
        "e-mail to a@example.com, b@example.com via mail.example.com:587",
      ],
    ]);
    expect(alerts).toMatchObject({ deadLetters: { fraction: 0.01 }, notifyResolved: true, intervalMs: 15_000 });
    const logged = redactText(
      `posting to ${process.env.INGEST_ALERT_WEBHOOK_URL} signed with whsec-from-the-environment; smtp password mail-password-42`,
    );
    expect(logged).toBe("posting to [redacted] signed with [redacted]; smtp password [redacted]");
  });

  it("refuses an incomplete e-mail channel in the environment, naming what is missing", () => {
    process.env.INGEST_ALERT_SMTP_URL = "smtp://mail.example.com";
    expect(() => resolveAlerts()).toThrow(
      "e-mail alerts need INGEST_ALERT_EMAIL_FROM and INGEST_ALERT_EMAIL_TO as well",
    );
  });
});

describe("alert messages", () => {
  const incident: IncidentRow = {
    id: 12,
    kind: "run-failed",
    subject: "ec/orders",
    status: "resolved",
    summary: "ec/orders failed in run 3f2a1b2c",
    details: { assetKey: "ec/orders", runId: "3f2a1b2c-0000-4000-8000-000000000000", error: "Error: boom" },
    occurrences: 2,
    daemon: "host:1",
    opened_at: new Date("2026-12-04T01:30:07.120Z"),
    updated_at: new Date("2026-12-04T02:00:00Z"),
    resolved_at: new Date("2026-12-04T03:00:00Z"),
    resolution: "ec/orders succeeded in run 9c1d",
  };

  it("name the run, the asset and the commands that show more", () => {
    const message = alertMessage(incident, "resolved", 41, { project: "my-shop", host: "db1" });
    expect(message).toMatchObject({
      event: "resolved",
      deliveryId: 41,
      incidentId: 12,
      openedAt: "2026-12-04T01:30:07.120Z",
      resolvedAt: "2026-12-04T03:00:00.000Z",
      links: {
        runId: "3f2a1b2c-0000-4000-8000-000000000000",
        commands: [
          "ingest runs show 3f2a1b2c-0000-4000-8000-000000000000",
          "ingest status ec/orders",
          "ingest alerts",
        ],
      },
    });
    expect(emailSubject(message)).toBe("[ingest my-shop] resolved: ec/orders failed in run 3f2a1b2c");
    const text = emailText(message);
    expect(text).toContain("How it cleared: ec/orders succeeded in run 9c1d");
    expect(text).toContain("Occurred:  2 times while open");
    expect(text).toContain("  ingest runs show 3f2a1b2c-0000-4000-8000-000000000000");
  });
});
