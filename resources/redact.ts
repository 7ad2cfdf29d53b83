/**
 * Redaction by pattern for everything that leaves the process as text (logs, spans, stored errors):
 * values under credential-like key names, passwords inside connection URLs, credential-like query
 * parameters, bearer tokens, and the values of the secrets this process has read (`registerSecret`),
 * wherever they appear.
 */

/** Key names whose values are credentials, in any casing or separator style. */
const credentialKey =
  /pass(word|wd|phrase)$|^pass$|secret|token$|api[-_]?key|access[-_]?key|private[-_]?key|signing[-_]?key|^key$|authori[sz]ation|^auth$|cookie|credential|connection[-_]?string|database[-_]?url|^dsn$/i;

/** `scheme://user:password@` → `scheme://user:[redacted]@`. */
const urlCredentials = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^@/\s]*@/gi;

/** `Bearer abc…` / `Basic abc…` in header-like text. */
const authorizationValue = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;

/**
 * The value of a credential-like query parameter (`?api_key=…`, `&access_token=…`, `&client_secret=…`,
 * `?key=…`): an API that takes its key in the URL has it quoted by every error that names the URL.
 */
const queryCredentials =
  /([?&](?:[\w.-]*?(?:api[-_]?key|token|secret|password|passwd|signature)|key|auth|sig)=)[^&#\s"'<>]+/gi;

export const censor = "[redacted]";

const secrets = new Set<string>();

/** A secret's value, replaced by `[redacted]` wherever it appears in redacted text from now on. */
export function registerSecret(value: string | undefined): void {
  // Very short values would redact ordinary words; nobody's real secret is that short.
  if (value && value.length >= 6) secrets.add(value);
}

export const isCredentialKey = (key: string): boolean => credentialKey.test(key);

export function redactText(text: string): string {
  let out = text.replace(urlCredentials, `$1:${censor}@`).replace(authorizationValue, `$1 ${censor}`)
    .replace(queryCredentials, `$1${censor}`);
  for (const secret of secrets) if (out.includes(secret)) out = out.replaceAll(secret, censor);
  return out;
}

/**
 * A copy of an Error, redacted: the same prototype (so its type keeps its name for pino's error
 * serializer), message and stack through `redactText`, own fields and cause through `redact`.
 */
function redactError(error: Error, depth: number): Error {
  const copy = Object.create(Object.getPrototypeOf(error)) as Error;
  Object.defineProperty(copy, "message", { value: redactText(error.message), writable: true, configurable: true });
  if (error.stack !== undefined) {
    Object.defineProperty(copy, "stack", { value: redactText(error.stack), writable: true, configurable: true });
  }
  for (const [key, item] of Object.entries(error)) {
    (copy as unknown as Record<string, unknown>)[key] = redactField(key, item, depth);
  }
  if (error.cause !== undefined) {
    Object.defineProperty(copy, "cause", { value: redact(error.cause, depth + 1), writable: true, configurable: true });
  }
  return copy;
}

const redactField = (key: string, item: unknown, depth: number): unknown =>
  isCredentialKey(key) && item !== null && item !== undefined && item !== "" ? censor : redact(item, depth + 1);

/**
 * A copy of `value` with credentials replaced: strings through `redactText`, values under
 * credential-like keys replaced whole, Errors copied with their message, stack, own fields and
 * cause redacted the same way.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactText(value);
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date || ArrayBuffer.isView(value)) return value;
  if (depth > 10) return "[nested too deep]";
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error) return redactError(value, depth);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = redactField(key, item, depth);
  return out;
}
