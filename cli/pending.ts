import type { Command } from "commander";
import { Staging } from "../connectors/staging/index.ts";
import { openMetadata, output } from "./context.ts";
import { wholeNumber } from "./options.ts";

export function registerPending(program: Command): void {
  program
    .command("pending")
    .description(
      "records read but not loaded yet (a relationship whose end node is not in the graph), tried again on every materialisation",
    )
    .option("-a, --asset <key>", "only this asset's, record by record")
    .option("-n, --limit <n>", "at most this many records (with --asset)", wholeNumber(1), 50)
    .action(async (options: { asset?: string; limit: number }, command: Command) => {
      await using store = await openMetadata();
      // The pool stays the store's: it is closed below, not by Staging.
      const staging = new Staging(store.pool);
      if (options.asset === undefined) {
        const summary = await staging.pendingSummary();
        output(
          command,
          summary,
          () =>
            summary.map((p) =>
              `${String(p.count).padStart(8)}  ${p.consumer}  ${p.reason}  (since ${p.since.toISOString()})`
            ).join("\n") || "nothing pending",
        );
        return;
      }
      const records = await staging.listPending({ consumer: options.asset, limit: options.limit });
      output(
        command,
        records,
        () =>
          records.map((p) => `${p.consumer} ${p.source_key}  ${p.reason}  (since ${p.since.toISOString()})`).join(
            "\n",
          ) || "nothing pending",
      );
    });
}
