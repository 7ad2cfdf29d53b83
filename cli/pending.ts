import type { Command } from "commander";
import { Staging } from "../connectors/staging/index.ts";
import { openMetadata, output } from "./context.ts";

/** `ingest pending`. */
export async function pending(options: { asset?: string; limit: number }, command: Command): Promise<void> {
  await using store = await openMetadata({ migrate: "if-behind" });
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
      records.map((p) => `${p.consumer} ${p.sourceKey}  ${p.reason}  (since ${p.since.toISOString()})`).join(
        "\n",
      ) || "nothing pending",
  );
}
