import { Command } from "commander";
import { packageVersion } from "../resources/settings.ts";
import { registerDaemon } from "./daemon.ts";
import { registerDeadLetters } from "./dead-letters.ts";
import { registerDemo } from "./demo.ts";
import { registerInit } from "./init.ts";
import { registerLineage } from "./lineage.ts";
import { registerMaterialize } from "./materialize.ts";
import { registerPending } from "./pending.ts";
import { registerSamples } from "./samples.ts";
import { registerStack } from "./stack.ts";
import { registerRuns, registerStatus } from "./status.ts";
import { registerWorker } from "./worker.ts";

const program = new Command()
  .name("ingest")
  .description("Materialise an asset graph of e-commerce, CRM and support-chat data into Neo4j and Chroma.")
  .version(packageVersion, "-V, --version", "print the version of ingest-graph")
  .option(
    "--definitions <file>",
    "the definitions module to load (default: INGEST_DEFINITIONS, else the project's definitions.ts, else the bundled sample)",
  )
  .option("--json", "machine-readable output on stdout")
  .option("--debug", "print the stack of an error, and in logs")
  .showHelpAfterError();

registerInit(program);
registerStack(program);
registerMaterialize(program);
registerWorker(program);
registerStatus(program);
registerRuns(program);
registerLineage(program);
registerDeadLetters(program);
registerPending(program);
registerSamples(program);
registerDemo(program);
registerDaemon(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const debug = program.opts<{ debug?: boolean }>().debug;
  console.error(
    `ingest: ${error instanceof Error ? (debug ? error.stack ?? error.message : error.message) : String(error)}`,
  );
  process.exitCode = 1;
}
