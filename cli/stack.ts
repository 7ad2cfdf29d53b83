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

export function registerStack(program: Command): void {
  const stack = program.command("stack").description(
    "the local servers: PostgreSQL, Neo4j, Chroma, the embedding model and the sample CRM API",
  );
  stack
    .command("up [services...]")
    .description("start what is not already reachable at its configured URL, and wait until it answers")
    .action(async (names: string[], _opts, command: Command) => {
      const quiet = globals(command).json;
      const statuses = await stackUp(names, (s) => quiet || console.log(describeService(s)));
      if (quiet) output(command, statuses, () => "");
    });
  stack
    .command("down [services...]")
    .description("stop the servers `stack up` started (and only those)")
    .action(async (names: string[], _opts, command: Command) => {
      const stopped = await stackDown(names);
      output(command, { stopped }, () => (stopped.length ? `stopped ${stopped.join(", ")}` : "nothing to stop"));
    });
  stack
    .command("status [services...]")
    .description("where each service is and whether it answers")
    .action(async (names: string[], _opts, command: Command) => {
      const statuses = await stackStatus(names);
      output(command, statuses, () => statuses.map(describeService).join("\n"));
    });
}
