import type { Command } from "commander";
import type { Tick, TickStatus } from "../db/schema.ts";
import { compressedClock, systemClock } from "../engine/automation/clock.ts";
import { type Daemon, startDaemon } from "../engine/automation/daemon.ts";
import { listTicks } from "../engine/automation/ticks.ts";
import { logger } from "../resources/logger.ts";
import { globals, loadGraph, type MetricsOptions, openMetadata, output, serveMetricsIfAsked } from "./context.ts";

interface DaemonOptions extends MetricsOptions {
  leader: boolean;
  clockStart?: Date;
  clockRate: number;
  clockOrigin?: number;
}

/** `ingest daemon`: runs the schedules and sensors until SIGTERM/SIGINT. */
export async function daemon(options: DaemonOptions, command: Command): Promise<void> {
  const graph = await loadGraph(globals(command).definitions);
  if (
    options.clockStart === undefined &&
    (options.clockOrigin !== undefined || command.getOptionValueSource("clockRate") === "cli")
  ) {
    throw new Error("--clock-rate and --clock-origin go with --clock-start");
  }
  const clock = options.clockStart === undefined ? systemClock : compressedClock({
    start: options.clockStart,
    rate: options.clockRate,
    origin: options.clockOrigin,
  });
  await using store = await openMetadata();
  await using served = await serveMetricsIfAsked(options, "daemon", store.db);
  if (served.url) logger.info({ metrics: served.url }, "serving metrics");
  // SIGTERM finishes the evaluation in progress, records what is left and exits 0; the handlers are in
  // place before the daemon starts, so a signal that comes while it starts stops it as soon as it has.
  const running: { daemon?: Daemon; stopping?: boolean } = {};
  const stop = () => {
    running.stopping = true;
    void running.daemon?.stop();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  const daemon = running.daemon = await startDaemon({ graph, pool: store.pool, clock, leader: options.leader });
  if (running.stopping) void daemon.stop();
  await daemon.done;
  // Deno keeps a process alive while it listens for a signal.
  process.off("SIGTERM", stop);
  process.off("SIGINT", stop);
}

/** `ingest ticks`. */
export async function ticks(
  options: { name?: string; status?: TickStatus; limit: number },
  command: Command,
): Promise<void> {
  await using store = await openMetadata({ migrate: "if-behind" });
  const ticks = await listTicks(store.db, {
    instigator: options.name,
    status: options.status,
    limit: options.limit,
  });
  output(command, ticks, () => (ticks.length === 0 ? "no ticks recorded" : ticks.map(describeTick).join("\n")));
}

const time = (value: Date | string) => new Date(value).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");

function describeTick(tick: Tick): string {
  const folded = tick.evaluations > 1 ? ` ×${tick.evaluations} until ${time(tick.lastTickTime)}` : "";
  const runs = tick.runIds.length > 0
    ? ` → run${tick.runIds.length > 1 ? "s" : ""} ${tick.runIds.map((id) => id.slice(0, 8)).join(", ")}`
    : "";
  return `${time(tick.tickTime)}  ${tick.instigator.padEnd(22)} ${tick.kind.padEnd(12)} ${
    tick.status.padEnd(9)
  }${folded}${tick.reason ? `  ${tick.reason}` : ""}${runs}`;
}
