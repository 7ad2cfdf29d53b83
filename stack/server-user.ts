import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chownSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stateDir } from "../resources/settings.ts";

/** Who a database server runs as: ourselves (no ids), or a system user. */
export interface ServerUser {
  uid?: number;
  gid?: number;
}

/**
 * Postgres will not run as root, and MariaDB ought not to: as root, a server runs as the system user its
 * Debian package creates (`postgres`, `mysql`); as anyone else, as ourselves.
 */
export function serverUser(name: string): ServerUser {
  if (process.getuid?.() !== 0) return {};
  const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }));
  const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }));
  return { uid, gid };
}

/**
 * A server's home: `<state>/<service>`, unless its user cannot reach the state folder (a checkout under
 * /root, say); then in /var/tmp, in a folder named after the state folder so each checkout has its own.
 */
export function serverHome(service: string, user: ServerUser): string {
  const preferred = join(stateDir, service);
  if (reachesStateDir(user)) return preferred;
  const key = createHash("sha256").update(stateDir).digest("hex").slice(0, 12);
  return `/var/tmp/ingest-${service}-${key}`;
}

function reachesStateDir(user: ServerUser): boolean {
  if (user.uid === undefined) return true;
  mkdirSync(stateDir, { recursive: true });
  return spawnSync("test", ["-x", stateDir], { uid: user.uid, gid: user.gid }).status === 0;
}

/**
 * A new, empty home (mode 0700, owned by `user`) for a throwaway server: in `<state>/throwaway`, or in the
 * system's temporary folder when `user` cannot reach the state folder.
 */
export function throwawayHome(service: string, user: ServerUser): string {
  const parent = reachesStateDir(user) ? join(stateDir, "throwaway") : tmpdir();
  mkdirSync(parent, { recursive: true });
  const home = mkdtempSync(join(parent, `${service}-`));
  chownTo(home, user);
  return home;
}

export function chownTo(path: string, user: ServerUser): void {
  if (user.uid !== undefined) chownSync(path, user.uid, user.gid!);
}

/** Writes a file only `user` (and root) may read: a password, an init script, a configuration holding either. */
export function writePrivateFile(path: string, text: string, user: ServerUser): void {
  writeFileSync(path, text, { mode: 0o600 });
  chownTo(path, user);
}
