import { join } from "node:path";
import { Command, Option } from "commander";
import { type RunStatus, tickStatuses } from "../db/schema.ts";
import { localPorts, packageVersion, sourcesDir } from "../resources/settings.ts";
import { isoTime, nonNegativeNumber, positiveNumber, wholeNumber } from "./options.ts";

/**
 * The `ingest` command tree: every command, option and help text. A command's code loads only when
 * it runs (`lazy`), so `ingest --help` and a mistyped option answer without loading the engine,
 * the database drivers or the model runtime.
 */

// deno-lint-ignore no-explicit-any -- commander passes each action its own arguments
type Action = (...args: any[]) => void | Promise<void>;

const lazy = <M>(load: () => Promise<M>, pick: (module: M) => Action): Action => async (...args) =>
  pick(await load())(...args);

const collect = (value: string, previous: string[] = []) => [...previous, ...value.split(",").filter(Boolean)];

const metricsPort = [
  "--metrics-port <port>",
  "serve Prometheus metrics at http://<host>:<port>/metrics (default: INGEST_METRICS_PORT, else none; 0 picks a free port)",
  wholeNumber(0, 65535),
] as const;
const metricsHost = ["--metrics-host <host>", "the address the metrics are served on", "127.0.0.1"] as const;

const runStatuses: RunStatus[] = ["queued", "running", "canceling", "succeeded", "failed", "canceled"];

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

program
  .command("init <dir>")
  .description("write a new project: definitions, an example asset chain, resources, a schedule, a sensor, a test")
  .option("--name <name>", "the package name in its package.json (default: the folder's name)")
  .option("--ingest-graph <spec>", `the dependency on ingest-graph in its package.json (default ^${packageVersion})`)
  .option("--from-postgres <url>", "also draft staged, node and relationship assets from tables of this database")
  .option("--tables <names>", "with --from-postgres: the tables, comma-separated (schema.table, or public's)", collect)
  .action(lazy(() => import("./init.ts"), (m) => m.init));

program
  .command("doctor")
  .description(
    "check what this project needs: runtime, definitions, Postgres, Neo4j, Chroma, the model, the schema, workers — and what to do about each failure",
  )
  .action(lazy(() => import("./doctor.ts"), (m) => m.doctor));

const stack = program.command("stack").description(
  "the local servers: PostgreSQL, Neo4j, Chroma, the embedding model, the sample CRM API and, when named, Jaeger",
);
stack
  .command("up [services...]")
  .description("start what is not already reachable at its configured URL, and wait until it answers")
  .action(lazy(() => import("./stack.ts"), (m) => m.up));
stack
  .command("down [services...]")
  .description("stop the servers `stack up` started (and only those)")
  .action(lazy(() => import("./stack.ts"), (m) => m.down));
stack
  .command("status [services...]")
  .description("where each service is and whether it answers")
  .action(lazy(() => import("./stack.ts"), (m) => m.status));

program
  .command("assets [selection...]")
  .description("the project's assets: group, kind, what they write, dependencies, code version, partitions")
  .addOption(
    new Option("-f, --format <format>", "table, or the graph as JSON, Mermaid or Graphviz DOT")
      .choices(["table", "json", "mermaid", "dot"]).default("table"),
  )
  .action(lazy(() => import("./assets.ts"), (m) => m.assets));

program
  .command("materialize [selection...]")
  .description("request a run of the selected assets (default: all)")
  .option("-s, --select <selection>", "asset selection, e.g. 'graph/Product+', 'group:ec and not ec/orders', '*'")
  .option("--stale", "only stale assets, and what is downstream of them if it turns out stale")
  .option(
    "--full-refresh",
    "reload the selected graph and collection assets from everything staged, not only what changed since their last load",
  )
  .option("-p, --partition <keys>", "partition(s) of partitioned assets (repeat or comma-separate)", collect)
  .option("--from <key>", "first partition of a backfill range")
  .option("--to <key>", "last partition of a backfill range (inclusive)")
  .option("-w, --wait", "wait for the run to finish, executing it in this process too")
  .option("--no-local-worker", "with --wait: leave execution to `ingest worker` processes")
  .option(
    "-c, --concurrency <n>",
    "with --wait: concurrency of the local worker (default: INGEST_WORKER_CONCURRENCY, or 4)",
    wholeNumber(1, 1000),
  )
  .option(
    "--priority <n>",
    "the run's priority, -32768 to 32767: lower runs first (default 0)",
    wholeNumber(-32768, 32767),
  )
  .action(lazy(() => import("./materialize.ts"), (m) => m.materialize));

program
  .command("worker")
  .description("execute queued asset materialisations until stopped (run as many as you like, on any host)")
  .option(
    "-c, --concurrency <n>",
    "materialisations run at once by this process (default: INGEST_WORKER_CONCURRENCY, or 4)",
    wholeNumber(1, 1000),
  )
  .option(
    "--grace <seconds>",
    "on SIGTERM/SIGINT, how long in-flight materialisations may finish before their jobs are returned to the queue (a second signal returns them at once)",
    nonNegativeNumber,
    25,
  )
  .option(
    "--heartbeat <seconds>",
    "how often this worker records that it is alive (default: INGEST_HEARTBEAT_MS, or 5 s)",
    positiveNumber,
  )
  .option(
    "--timeout <seconds>",
    "after how long without a heartbeat other workers take this one's jobs (default: INGEST_WORKER_TIMEOUT_MS, or 30 s)",
    positiveNumber,
  )
  .option(...metricsPort)
  .option(...metricsHost)
  .action(lazy(() => import("./worker.ts"), (m) => m.worker));

program
  .command("workers")
  .description("worker processes: live, stopped, or found dead (and which jobs of theirs were released)")
  .option("-n, --limit <n>", "how many", wholeNumber(1), 20)
  .action(lazy(() => import("./worker.ts"), (m) => m.workers));

program
  .command("status [selection...]")
  .description("each asset's state (fresh, stale and why, failed), its latest materialisation and its checks")
  .option("--partitions", "list every partition of partitioned assets")
  .option("--no-observe", "judge observable sources by their latest recorded observation, without asking them now")
  .action(lazy(() => import("./status.ts"), (m) => m.status));

program
  .command("observe [selection...]")
  .description(
    "ask the observable sources among the selected assets for their version now, and record it (status and --stale do too)",
  )
  .action(lazy(() => import("./observe.ts"), (m) => m.observe));

const runs = program
  .command("runs")
  .description("recent runs")
  .option("-n, --limit <n>", "how many", wholeNumber(1), 20)
  .addOption(new Option("--status <status>", "only runs with this status").choices(runStatuses))
  .option("-a, --asset <key>", "only runs with a step of this asset")
  .option("--tag <name[=value]>", "only runs with this tag (of this value)")
  .option("--instigator <name>", "only runs this schedule or sensor requested")
  .action(lazy(() => import("./runs.ts"), (m) => m.list));
runs
  .command("show <runId>")
  .description("the steps of one run: status, attempts, counts, duration, check results")
  .action(lazy(() => import("./runs.ts"), (m) => m.show));
runs
  .command("cancel <runId>")
  .description(
    "cancel a run: its queued steps do not start, and running materialisations only it waits for are told to stop",
  )
  .action(lazy(() => import("./runs.ts"), (m) => m.cancel));

program
  .command("lineage [asset]")
  .description(
    "the upstream chain of an asset's latest materialisation, or the source record and run behind a node or document",
  )
  .option("-p, --partition <key>", "a partition of a partitioned asset")
  .option("--node <Label:key>", "the node to trace, e.g. Product:P-1001")
  .option("--document <collection:id>", "the Chroma document to trace, e.g. products:P-1001")
  .action(lazy(() => import("./lineage.ts"), (m) => m.lineage));

const deadLetters = program
  .command("dead-letters")
  .description("records that could not be loaded: asset, source, source key, reason, issues and payload")
  .option("-a, --asset <key>", "only this asset's")
  .option("-r, --run <id>", "only this run's")
  .option("--reason <reason>", "only this reason (invalid, unparseable, …)")
  .option("--all", "include the ones replayed, or superseded by a later run")
  .option("--summary", "counts by asset and reason")
  .option("-n, --limit <n>", "at most this many", wholeNumber(1), 50)
  .action(lazy(() => import("./dead-letters.ts"), (m) => m.list));
deadLetters
  .command("replay")
  .description("put open dead letters through the current model again; those that pass are staged")
  .option("-a, --asset <key>", "only this asset's")
  .option("-r, --run <id>", "only this run's")
  .option("--reason <reason>", "only this reason")
  .action(lazy(() => import("./dead-letters.ts"), (m) => m.replay));

program
  .command("pending")
  .description(
    "records read but not loaded yet (a relationship whose end node is not in the graph), tried again on every materialisation",
  )
  .option("-a, --asset <key>", "only this asset's, record by record")
  .option("-n, --limit <n>", "at most this many records (with --asset)", wholeNumber(1), 50)
  .action(lazy(() => import("./pending.ts"), (m) => m.pending));

program
  .command("generate")
  .description(
    "generate the sample EC (Postgres), CRM (REST API data, MariaDB tables, CSV, Excel) and chat (JSON Lines) sources, deterministically",
  )
  .option("-n, --scale <orders>", "number of e-commerce orders; everything else scales from it", wholeNumber(1), 2000)
  .option("--seed <seed>", "the same scale and seed give the same data", wholeNumber(0), 42)
  .option("-o, --out <dir>", "where the file sources go", sourcesDir)
  .action(lazy(() => import("./samples.ts"), (m) => m.generateSamples));

program
  .command("crm-api")
  .description(
    "serve the generated CRM data as a HubSpot-shaped REST API (OAuth2 client credentials, pagination, rate limits)",
  )
  .option("-p, --port <port>", "port on 127.0.0.1", wholeNumber(1, 65535), localPorts.crmApi)
  .option("--data <dir>", "the folder with companies/contacts/deals/owners.jsonl", join(sourcesDir, "crm", "api"))
  .action(lazy(() => import("./samples.ts"), (m) => m.crmApi));

program
  .command("sample-apis")
  .description(
    "serve the sample chat (Zendesk-shaped), shop GraphQL (Shopify-shaped) and payments (Stripe-shaped) APIs from one process",
  )
  .option("-p, --port <port>", "port on 127.0.0.1", wholeNumber(1, 65535), localPorts.sampleApis)
  .option(
    "--data <dir>",
    "the folder with chat/api/ and payments/api/ (the shop API reads the shop database)",
    sourcesDir,
  )
  .action(lazy(() => import("./sample-apis.ts"), (m) => m.sampleApis));

program
  .command("demo")
  .description("bring the local stack up, generate the sample data, materialise every asset and show what landed")
  .option("-n, --scale <orders>", "sample scale (orders)", wholeNumber(1), 2000)
  .option("--seed <seed>", "sample seed", wholeNumber(0), 42)
  .action(lazy(() => import("./demo.ts"), (m) => m.demo));

program
  .command("ui")
  .description(
    "serve the web UI: the asset graph and its states, assets, runs and their traces, record lineage, dead letters, automation",
  )
  .option(
    "-p, --port <port>",
    "the port (default: INGEST_UI_PORT, else 58090; 0 picks a free one)",
    wholeNumber(0, 65535),
    localPorts.ui,
  )
  .option(
    "--host <address>",
    "the address to bind; any but 127.0.0.1/localhost needs INGEST_UI_TOKEN, which every request must then carry",
    "127.0.0.1",
  )
  .option("--worker", "execute runs in this process too, as `ingest worker` does")
  .action(lazy(() => import("./ui.ts"), (m) => m.ui));

program
  .command("webhooks")
  .description(
    "receive the project's webhook deliveries (POST /webhooks/<source>), checking signatures and storing each in Postgres before answering",
  )
  .option(
    "-p, --port <port>",
    "the port (default: INGEST_WEBHOOKS_PORT, else 58084; 0 picks a free one)",
    wholeNumber(0, 65535),
    localPorts.webhooks,
  )
  .option("--host <address>", "the address to bind", "127.0.0.1")
  .action(lazy(() => import("./webhooks.ts"), (m) => m.webhooks));

program
  .command("produce")
  .description(
    "send the sample real-time sources: order events to Kafka, stock updates to RabbitMQ and chat deliveries to `ingest webhooks`, out of order, some twice, some malformed or badly signed",
  )
  .option("-r, --rate <n>", "messages per second", wholeNumber(1), 200)
  .option(
    "-n, --count <n>",
    "how many messages to make, of the three streams (--streams chooses which are sent)",
    wholeNumber(1),
    2_000,
  )
  .option(
    "--seed <seed>",
    "the same count and seed give the same messages (default: from the clock, so each run sends new events)",
    wholeNumber(0),
  )
  .option("--webhooks <url>", "the webhook receiver", `http://127.0.0.1:${localPorts.webhooks}`)
  .option("--streams <list>", "which of orders, stock and chat to send", "orders,stock,chat")
  .action(lazy(() => import("./produce.ts"), (m) => m.produce));

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
  .option(...metricsPort)
  .option(...metricsHost)
  .action(lazy(() => import("./daemon.ts"), (m) => m.daemon));

program
  .command("ticks")
  .description("recent ticks of the schedules and sensors: evaluated, skipped (and why), runs requested")
  .option("-n, --name <instigator>", "only this schedule or sensor")
  .addOption(new Option("--status <status>", "only ticks with this status").choices(tickStatuses))
  .option("-l, --limit <n>", "how many", wholeNumber(1), 20)
  .action(lazy(() => import("./daemon.ts"), (m) => m.ticks));

program
  .command("alerts")
  .description(
    "incidents the daemon opened (failed runs, dead letters past the threshold, missed freshness targets, dead workers), open and recent, with their deliveries",
  )
  .option("--open", "only the open ones")
  .option("-n, --limit <n>", "how many resolved ones, besides every open one", wholeNumber(1), 20)
  .action(lazy(() => import("./alerts.ts"), (m) => m.alerts));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const debug = program.opts<{ debug?: boolean }>().debug;
  console.error(
    `ingest: ${error instanceof Error ? (debug ? error.stack ?? error.message : error.message) : String(error)}`,
  );
  process.exitCode = 1;
}
