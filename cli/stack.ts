import type { Command } from "commander";
import { type ServiceStatus, stackDown, stackStatus, stackUp } from "../stack/stack.ts";
import { globals, output } from "./context.ts";

export function describeService(s: ServiceStatus): string {
  if (s.kind === "files") {
    return `${s.name.padEnd(9)} ${(s.reachable ? "ready" : "absent").padEnd(5)} ${s.location}${
      s.startSeconds !== undefined ? `  (fetched in ${s.startSeconds.toFixed(1)}s)` : ""
    }`;
  }
  const state = s.reachable ? "up" : "down";
  const who = s.managedBy === "ours"
    ? `started by ingest, pid ${s.pid}`
    : s.managedBy === "external"
    ? "configured by environment"
    : s.managedBy === "other"
    ? "already running"
    : "not running";
  const took = s.startSeconds !== undefined ? `, started in ${s.startSeconds.toFixed(1)}s` : "";
  return `${s.name.padEnd(9)} ${state.padEnd(5)} ${s.location}  (${who}${took})`;
}

/** `ingest stack up [services…]`. */
export async function up(names: string[], _options: unknown, command: Command): Promise<void> {
  const quiet = globals(command).json;
  const statuses = await stackUp(names, (s) => quiet || console.log(describeService(s)));
  if (quiet) output(command, statuses, () => "");
}

/** `ingest stack down [services…]`. */
export async function down(names: string[], _options: unknown, command: Command): Promise<void> {
  const stopped = await stackDown(names);
  output(command, { stopped }, () => (stopped.length ? `stopped ${stopped.join(", ")}` : "nothing to stop"));
}

/** `ingest stack status [services…]`. */
export async function status(names: string[], _options: unknown, command: Command): Promise<void> {
  const statuses = await stackStatus(names);
  output(command, statuses, () => statuses.map(describeService).join("\n"));
}
