import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Admin } from "@platformatic/kafka";
import { localPorts, packageRoot, settings, stateDir } from "../resources/settings.ts";
import { buildOnce, type MavenBuild } from "./maven.ts";
import { startDetached, waitUntilReady } from "./process.ts";
import type { LocalService } from "./service.ts";
import { freePort, launchThrowaway, type ThrowawayProcess } from "./throwaway.ts";

/** Kafka's jars, gathered from Maven Central by `stack/kafka-server/pom.xml` into the user's cache. */
const kafkaServer: MavenBuild = {
  name: "kafka",
  label: "Kafka",
  source: join(packageRoot, "stack", "kafka-server"),
  outProperty: "kafka.server.out",
  product: "lib",
  building: "fetching Apache Kafka 4.4 from Maven Central",
  override: "KAFKA_BROKERS",
};

/** Whether a Kafka cluster answers a metadata request at `brokers` and names a broker in it. */
export async function kafkaAnswers(brokers: string[]): Promise<boolean> {
  const admin = new Admin({
    clientId: "ingest-stack",
    bootstrapBrokers: brokers,
    connectTimeout: 2000,
    timeout: 3000,
    retries: 0,
  });
  try {
    const metadata = await admin.metadata({ topics: [] });
    return metadata.brokers.size > 0;
  } catch {
    return false;
  } finally {
    await admin.close().catch(() => {});
  }
}

/**
 * One node that is both the broker and the KRaft controller (a static quorum of itself), listening on
 * 127.0.0.1 only, its partitions in `<home>/data`, replication factors of 1 for the internal topics.
 */
function serverProperties(home: string, port: number, controllerPort: number): string {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name=PLAINTEXT",
    "controller.listener.names=CONTROLLER",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `log.dirs=${join(home, "data")}`,
    "num.partitions=1",
    "auto.create.topics.enable=true",
    "offsets.topic.replication.factor=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    "group.initial.rebalance.delay.ms=0",
    // After a crash, the controller refuses the restarted broker (DUPLICATE_BROKER_REGISTRATION) until the
    // dead one's session expires: 9 s by default, 3 s here. Heartbeats run inside the one process.
    "broker.session.timeout.ms=3000",
    "broker.heartbeat.interval.ms=1000",
    "",
  ].join("\n");
}

/**
 * log4j2's configuration: everything from INFO into `<home>/logs/server.log` (three files of 10 MB at
 * most), and only errors on the console, which the stack's log (`.ingest/logs/kafka.log`) keeps.
 */
function log4jProperties(home: string): string {
  const pattern = "[%d] %p %m (%c)%n";
  return [
    "appender.file.type = RollingFile",
    "appender.file.name = file",
    `appender.file.fileName = ${join(home, "logs", "server.log")}`,
    `appender.file.filePattern = ${join(home, "logs", "server.log.%i")}`,
    "appender.file.layout.type = PatternLayout",
    `appender.file.layout.pattern = ${pattern}`,
    "appender.file.policies.type = Policies",
    "appender.file.policies.size.type = SizeBasedTriggeringPolicy",
    "appender.file.policies.size.size = 10MB",
    "appender.file.strategy.type = DefaultRolloverStrategy",
    "appender.file.strategy.max = 3",
    "appender.console.type = Console",
    "appender.console.name = console",
    "appender.console.target = SYSTEM_ERR",
    "appender.console.layout.type = PatternLayout",
    `appender.console.layout.pattern = ${pattern}`,
    "appender.console.filter.threshold.type = ThresholdFilter",
    "appender.console.filter.threshold.level = error",
    "rootLogger.level = info",
    "rootLogger.appenderRef.file.ref = file",
    "rootLogger.appenderRef.console.ref = console",
    // One line per request served: far too many at INFO.
    "logger.request.name = kafka.request.logger",
    "logger.request.level = warn",
    "",
  ].join("\n");
}

/** A KRaft cluster id: 16 random bytes in URL-safe base64, as `kafka-storage random-uuid` makes one. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    // Kafka's own never starts with '-': it would read as an option.
    if (!id.startsWith("-")) return id;
  }
}

/**
 * Writes the configuration into `home` (afresh each start, so the ports may move), formats the log folder
 * when it is not yet, and returns the broker's `java` arguments.
 */
function prepareBroker(home: string, port: number, controllerPort: number): string[] {
  const lib = join(buildOnce(kafkaServer), "lib");
  mkdirSync(join(home, "logs"), { recursive: true });
  const config = join(home, "server.properties");
  writeFileSync(config, serverProperties(home, port, controllerPort));
  writeFileSync(join(home, "log4j2.properties"), log4jProperties(home));
  const java = [
    "-Djava.awt.headless=true",
    // Plain IPv4 sockets on 127.0.0.1, rather than IPv6 ones bound to ::ffff:127.0.0.1.
    "-Djava.net.preferIPv4Stack=true",
    `-Dlog4j2.configurationFile=${join(home, "log4j2.properties")}`,
  ];
  if (!existsSync(join(home, "data", "meta.properties"))) {
    const format = spawnSync(
      "java",
      [
        ...java,
        "-Xmx256m",
        "-cp",
        `${lib}/*`,
        "kafka.tools.StorageTool",
        "format",
        "--config",
        config,
        "--cluster-id",
        clusterId(),
      ],
      { encoding: "utf8" },
    );
    if (format.error) throw new Error(`could not run java to format Kafka's log folder: ${format.error.message}`);
    if (format.status !== 0) {
      throw new Error(
        `kafka-storage format failed (exit ${format.status}):\n${`${format.stdout}\n${format.stderr}`.trim()}`,
      );
    }
  }
  return ["-Xmx384m", "-Xms128m", "-XX:+UseG1GC", ...java, "-cp", `${lib}/*`, "kafka.Kafka", config];
}

/**
 * Apache Kafka 4.4 in KRaft mode, one node that is broker and controller, run from its jars (no
 * distribution, no scripts): data and logs in `<state>/kafka`, on 127.0.0.1 at `INGEST_KAFKA_PORT` (59092),
 * its controller at `INGEST_KAFKA_CONTROLLER_PORT` (59093), no authentication.
 */
export const kafka: LocalService = {
  name: "kafka",
  kind: "server",
  external: settings().kafka.external,
  // The bundled sample's order events arrive through it; a project of its own names it when it wants one.
  sample: true,
  location: () => settings().kafka.brokers.join(","),
  isReachable: () => kafkaAnswers(settings().kafka.brokers),
  async start() {
    const args = prepareBroker(join(stateDir, "kafka"), localPorts.kafka, localPorts.kafkaController);
    const pid = startDetached({ name: "kafka", command: "java", args });
    await waitUntilReady("kafka", pid, () => kafkaAnswers(settings().kafka.brokers), 120_000);
  },
};

/** A Kafka broker of a test's own, from {@link startThrowawayKafka}: `kill()` it, `restart()` it, `stop()` it. */
export interface ThrowawayKafka extends ThrowawayProcess {
  /** `["127.0.0.1:<port>"]`, the client's bootstrap brokers. */
  brokers: string[];
}

/**
 * Starts a Kafka node like the stack's, with a fresh home in a temporary folder under the state folder, on
 * a free port (or `port`) and a free controller port, and waits until it answers; for a test that kills a
 * broker without disturbing the stack's. The home is deleted when it stops, or when this process ends.
 *
 * @example
 * ```ts
 * const kafka = await startThrowawayKafka();
 * try { ... kafka.kill(); await kafka.restart(); ... new Consumer({ bootstrapBrokers: kafka.brokers, ... }) ... }
 * finally { await kafka.stop(); }
 * ```
 */
export async function startThrowawayKafka(
  options: { port?: number; startTimeoutMs?: number } = {},
): Promise<ThrowawayKafka> {
  const port = options.port ?? (await freePort());
  let controllerPort = await freePort();
  while (controllerPort === port) controllerPort = await freePort();
  const brokers = [`127.0.0.1:${port}`];
  mkdirSync(join(stateDir, "throwaway"), { recursive: true });
  const home = mkdtempSync(join(stateDir, "throwaway", "kafka-"));
  let args: string[];
  try {
    args = prepareBroker(home, port, controllerPort);
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }

  const server = await launchThrowaway({
    what: `a throwaway Kafka on port ${port}`,
    command: "java",
    args,
    home,
    // The broker's errors; everything else is in logs/server.log.
    logFile: join(home, "console.log"),
    answers: () => kafkaAnswers(brokers),
    timeoutMs: options.startTimeoutMs,
  });
  return Object.assign(server, { brokers });
}
