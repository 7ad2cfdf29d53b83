import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { type SecretName, secretPath } from "../resources/settings.ts";

/** Returns the stack's generated secret, creating it (mode 0600, never printed) on first use. */
export function ensureSecret(name: SecretName): string {
  const file = secretPath(name);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(24).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
