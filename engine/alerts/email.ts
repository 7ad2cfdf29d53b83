import type { EmailChannelConfig } from "./config.ts";
import type { Attempt, Sender } from "./deliveries.ts";
import { type AlertMessage, emailSubject, emailText } from "./message.ts";

type Transporter = { sendMail(mail: Record<string, unknown>): Promise<unknown>; close(): void };

/**
 * Sends messages as plain-text e-mails over one SMTP transport, made on first use (nodemailer loads
 * only when an e-mail goes out). An SMTP reply of 5xx (the server refuses for good: an unknown
 * recipient, a rejected sender) is not tried again; anything else that fails (no connection, a timeout,
 * a 4xx "try later") is.
 */
export function emailSender(email: EmailChannelConfig & { to: string[] }, timeoutMs: number): Sender {
  let transport: Promise<Transporter> | undefined;
  const connect = async () => {
    const { createTransport } = await import("nodemailer");
    return createTransport({
      url: email.smtp,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    }) as unknown as Transporter;
  };
  return {
    async send(message: AlertMessage): Promise<Attempt> {
      try {
        await (await (transport ??= connect())).sendMail({
          from: email.from,
          to: email.to,
          subject: emailSubject(message),
          text: emailText(message),
          headers: { "X-Ingest-Delivery": String(message.deliveryId), "X-Ingest-Event": `incident.${message.event}` },
        });
        return { delivered: true };
      } catch (error) {
        const code = (error as { responseCode?: number }).responseCode;
        return {
          delivered: false,
          retry: !(code !== undefined && code >= 500 && code < 600),
          ...(code !== undefined && { status: code }),
          error: error instanceof Error ? error.message : String(error),
        };
      }
    },
    async close() {
      if (transport) (await transport.catch(() => undefined))?.close();
    },
  };
}
