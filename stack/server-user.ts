import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
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
  if (user.uid === undefined) return preferred;
  mkdirSync(stateDir, { recursive: true });
  const reachable = spawnSync("test", ["-x", stateDir], { uid: user.uid, gid: user.gid }).status === 0;
  if (reachable) return preferred;
  const key = createHash("sha256").update(stateDir).digest("hex").slice(0, 12);
  return `/var/tmp/ingest-${service}-${key}`;
}
