import { type Command, Option } from "commander";
import { type Tick, type TickStatus, tickStatuses } from "../db/schema.ts";
import { compressedClock, systemClock } from "../engine/automation/clock.ts";
import { startDaemon } from "../engine/automation/daemon.ts";
import { listTicks } from "../engine/automation/ticks.ts";
import { globals, loadGraph, openMetadata, output } from "./context.ts";
import { isoTime, positiveNumber, wholeNumber } from "./options.ts";

interface DaemonOptions {
  leader: boolean;
  clockStart?: Date;
  clockRate: number;
  clockOrigin?: number;
}

export function registerDaemon(program: Command): void {
  program
    .command("daemon")
    .description(
      "run the schedules and sensors, recording every tick (run as many as you like: one leads, the others stand by)",
    )
    .option("--no-leader", "evaluate even while another daemon leads (ticks still request their runs once)")
    .option(
      "--clock-start <time>",
      "run schedules on a clock that starts at this ISO time (tests, soak benchmarks)",
      isoTime,
    )
    .option("--clock-rate <n>", "with --clock-start: clock seconds per real second", positiveNumber, 1)
    .option(
      "--clock-origin <epochMs>",
      "with --clock-start: the real instant at which the clock reads it (daemons given the same share one clock)",
      wholeNumber(0),
    )
    .action(async (options: DaemonOptions, command: Command) => {
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
    .addOption(new Option("--status <status>", "only ticks with this status").choices(tickStatuses))
    .option("-l, --limit <n>", "how many", wholeNumber(1), 20)
    .action(async (options: { name?: string; status?: TickStatus; limit: number }, command: Command) => {
      await using store = await openMetadata();
      const ticks = await listTicks(store.db, {
        instigator: options.name,
        status: options.status,
        limit: options.limit,
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
