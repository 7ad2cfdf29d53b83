import type { Command } from "commander";
import type { Tick, TickStatus } from "../db/schema.ts";
import { compressedClock, systemClock } from "../engine/automation/clock.ts";
import { startDaemon } from "../engine/automation/daemon.ts";
import { listTicks } from "../engine/automation/ticks.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";

interface DaemonOptions {
  leader: boolean;
  clockStart?: string;
  clockRate?: string;
  clockOrigin?: string;
}

export function registerDaemon(program: Command): void {
  program
    .command("daemon")
    .description(
      "run the schedules and sensors, recording every tick (run as many as you like: one leads, the others stand by)",
    )
    .option("--no-leader", "evaluate even while another daemon leads (ticks still request their runs once)")
    .option("--clock-start <time>", "run schedules on a clock that starts at this ISO time (tests, soak benchmarks)")
    .option("--clock-rate <n>", "with --clock-start: clock seconds per real second", "1")
    .option(
      "--clock-origin <epochMs>",
      "with --clock-start: the real instant at which the clock reads it (daemons given the same share one clock)",
    )
    .action(async (options: DaemonOptions, command: Command) => {
      const graph = await loadGraph(globals(command).definitions);
      const clock = options.clockStart === undefined ? systemClock : compressedClock({
        start: new Date(options.clockStart),
        rate: Number(options.clockRate),
        origin: options.clockOrigin === undefined ? undefined : Number(options.clockOrigin),
      });
      await using store = await openMetadata();
      const daemon = await startDaemon({ graph, pool: store.pool, clock, leader: options.leader });
      // SIGTERM finishes the evaluation in progress, records what is left and exits 0.
      const stop = () => void daemon.stop();
      process.on("SIGTERM", stop);
      process.on("SIGINT", stop);
      await daemon.done;
      // Deno keeps a process alive while it listens for a signal.
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
    });

  program
    .command("ticks")
    .description("recent ticks of the schedules and sensors: evaluated, skipped (and why), runs requested")
    .option("-n, --name <instigator>", "only this schedule or sensor")
    .option("--status <status>", "only ticks with this status: evaluated, skipped, requested or failed")
    .option("-l, --limit <n>", "how many", "20")
    .action(async (options: { name?: string; status?: TickStatus; limit: string }, command: Command) => {
      await using store = await openMetadata();
      const ticks = await listTicks(store.db, {
        instigator: options.name,
        status: options.status,
        limit: Number(options.limit),
      });
      output(command, ticks, () => (ticks.length === 0 ? "no ticks recorded" : ticks.map(describeTick).join("\n")));
    });
}

const time = (value: Date | string) => new Date(value).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");

function describeTick(tick: Tick): string {
  const folded = tick.evaluations > 1 ? ` ×${tick.evaluations} until ${time(tick.last_tick_time)}` : "";
  const runs = tick.run_ids.length > 0
    ? ` → run${tick.run_ids.length > 1 ? "s" : ""} ${tick.run_ids.map((id) => id.slice(0, 8)).join(", ")}`
    : "";
  return `${time(tick.tick_time)}  ${tick.instigator.padEnd(22)} ${tick.kind.padEnd(12)} ${
    tick.status.padEnd(9)
  }${folded}${tick.reason ? `  ${tick.reason}` : ""}${runs}`;
}
