import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../resources/settings.ts";

/** The stack's generated secrets, made in a state folder of their own by a process whose umask lets anything through. */
const state = mkdtempSync(join(tmpdir(), "ingest-secret-files-"));
afterAll(() => rmSync(state, { recursive: true, force: true }));

function ensureSecretIn(folder: string, name: string) {
  const code = `import { ensureSecret } from ${JSON.stringify(join(packageRoot, "stack", "secrets.ts"))};
ensureSecret(${JSON.stringify(name)});`;
  const node = join(packageRoot, "node_modules", ".bin", "node");
  return spawnSync("sh", ["-c", `umask 000 && exec "${node}" --input-type=module -e '${code}'`], {
    env: { ...process.env, INGEST_STATE_DIR: folder },
    encoding: "utf8",
  });
}

describe("generated secrets", () => {
  it("are files only their owner reads (0600, in a 0700 folder), never printed, made once", () => {
    const folder = join(state, "nested", "state");
    const first = ensureSecretIn(folder, "neo4j");
    expect(first.status, first.stderr).toBe(0);
    const file = join(folder, "secrets", "neo4j");
    const secret = readFileSync(file, "utf8").trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(folder, "secrets")).mode & 0o777).toBe(0o700);
    expect(first.stdout + first.stderr).not.toContain(secret);

    const again = ensureSecretIn(folder, "neo4j");
    expect(again.status, again.stderr).toBe(0);
    expect(readFileSync(file, "utf8").trim()).toBe(secret);
    expect(readdirSync(join(folder, "secrets"))).toEqual(["neo4j"]);
  });
});
