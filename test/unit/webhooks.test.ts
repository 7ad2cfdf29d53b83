import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { defineWebhookSource, signDelivery, webhookSources } from "../../connectors/webhooks/index.ts";
import { readSignature, signatureMatches } from "../../connectors/webhooks/source.ts";
import { defineDefinitions } from "../../engine/definitions.ts";

const source = (name: string, scheme: "stripe" | "zendesk" = "stripe") =>
  defineWebhookSource({ name, scheme, secrets: () => ["s3cret-value", undefined, ""] });

/** Whether `body` passes with `headers`, as the receiver checks it (`now` in ms). */
function passes(scheme: "stripe" | "zendesk", headers: Record<string, string>, body: string, now = Date.now()) {
  const signed = readSignature(source("x", scheme), (name) => headers[name], now);
  return "rejected" in signed ? signed.rejected : signatureMatches(["s3cret-value"], signed, Buffer.from(body));
}

describe("defineWebhookSource", () => {
  it("fills in the defaults and drops empty secrets", () => {
    const chat = source("chat_v2-eu");
    expect(chat).toMatchObject({ name: "chat_v2-eu", scheme: "stripe", maxBodyBytes: 1048576, toleranceSeconds: 300 });
    expect(chat.secrets()).toEqual(["s3cret-value"]);
  });

  it("refuses a name that does not fit in a URL path segment, an unknown scheme and bad limits", () => {
    for (const name of ["", "Chat", "1chat", "chat/x", "chat x", `c${"a".repeat(63)}`]) {
      expect(() => source(name), name).toThrow(/webhook source name .* is invalid: a lowercase letter/);
    }
    expect(() => source(`c${"a".repeat(62)}`)).not.toThrow();
    expect(() => defineWebhookSource({ name: "a", scheme: "github" as "stripe", secrets: () => [] })).toThrow(
      /scheme must be one of stripe, zendesk/,
    );
    expect(() => defineWebhookSource({ name: "a", scheme: "stripe", secrets: () => [], maxBodyBytes: 0 })).toThrow(
      /maxBodyBytes/,
    );
  });

  it("is checked for names given twice, by defineDefinitions and webhookSources", () => {
    const twice = { assets: [], resources: {}, webhookSources: [source("chat"), source("chat", "zendesk")] };
    expect(() => defineDefinitions(twice)).toThrow("webhook source 'chat' is declared twice");
    expect(() => webhookSources(twice)).toThrow("webhook source 'chat' is declared twice");
    expect(webhookSources({})).toEqual([]);
  });
});

describe("signDelivery and the receiver's check", () => {
  it("signs as Stripe does: t=<seconds>,v1=<hex HMAC of '<t>.<body>'>", () => {
    const at = new Date("2026-03-01T10:00:00.900Z");
    const headers = signDelivery("stripe", "s3cret-value", '{"a":1}', at);
    const expected = createHmac("sha256", "s3cret-value").update('1772359200.{"a":1}').digest("hex");
    expect(headers).toEqual({ "x-webhook-signature": `t=1772359200,v1=${expected}` });
    expect(passes("stripe", headers, '{"a":1}', at.getTime())).toBe(true);
    expect(passes("stripe", headers, '{"a":2}', at.getTime())).toBe(false);
    expect(passes("stripe", headers, '{"a":1}', at.getTime() + 301_000)).toBe("stale_timestamp");
    expect(passes("stripe", headers, '{"a":1}', at.getTime() - 301_000)).toBe("stale_timestamp");
  });

  it("signs as Zendesk does: base64 HMAC of timestamp + body, the timestamp in its own header", () => {
    const at = new Date("2026-03-01T10:00:00.000Z");
    const headers = signDelivery("zendesk", "s3cret-value", "body", at);
    expect(headers).toEqual({
      "x-zendesk-webhook-signature": createHmac("sha256", "s3cret-value").update("2026-03-01T10:00:00.000Zbody")
        .digest("base64"),
      "x-zendesk-webhook-signature-timestamp": "2026-03-01T10:00:00.000Z",
    });
    expect(passes("zendesk", headers, "body", at.getTime())).toBe(true);
    // The timestamp is signed: moving it breaks the signature.
    const moved = { ...headers, "x-zendesk-webhook-signature-timestamp": "2026-03-01T10:00:01.000Z" };
    expect(passes("zendesk", moved, "body", at.getTime())).toBe(false);
  });

  it("names why a signature header is refused", () => {
    expect(passes("stripe", {}, "b")).toBe("missing_signature");
    expect(passes("stripe", { "x-webhook-signature": "t=1,t=2,v1=" + "a".repeat(64) }, "b")).toBe(
      "malformed_signature",
    );
    expect(passes("stripe", { "x-webhook-signature": `t=${Math.floor(Date.now() / 1000)},v1=xyz` }, "b")).toBe(
      "malformed_signature",
    );
    expect(passes("zendesk", { "x-zendesk-webhook-signature": "abc" }, "b")).toBe("missing_signature");
    const time = new Date().toISOString();
    const zendesk = { "x-zendesk-webhook-signature-timestamp": time };
    expect(passes("zendesk", { ...zendesk, "x-zendesk-webhook-signature": "not base64 of 32 bytes" }, "b")).toBe(
      "malformed_signature",
    );
    expect(passes("zendesk", { ...zendesk, "x-zendesk-webhook-signature": `${"A".repeat(43)}=` }, "b")).toBe(false);
    const unparseable = {
      "x-zendesk-webhook-signature": `${"A".repeat(43)}=`,
      "x-zendesk-webhook-signature-timestamp": "x",
    };
    expect(passes("zendesk", unparseable, "b")).toBe("malformed_signature");
  });
});
