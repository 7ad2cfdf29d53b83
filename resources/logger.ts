import pino from "pino";

/**
 * Structured logs on stderr (stdout stays free for the CLI's own output and `--json`). Anything that
 * looks like a credential is redacted wherever it appears in a log object.
 */
export const logger = pino(
  {
    level: process.env.LOG_LEVEL ?? "info",
    base: { service: "ingest" },
    redact: {
      paths: [
        "password", "*.password", "*.*.password",
        "secret", "*.secret", "token", "*.token", "accessToken", "*.accessToken",
        "authorization", "*.authorization", "headers.authorization", "*.headers.authorization",
        "connectionString", "*.connectionString", "databaseUrl", "*.databaseUrl",
        "auth", "*.auth", "credentials", "*.credentials",
      ],
      censor: "[redacted]",
    },
  },
  pino.destination({ fd: 2, sync: true }),
);

export type Logger = pino.Logger;
