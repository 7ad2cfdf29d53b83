import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "amqplib";
import { localPorts, settings } from "../resources/settings.ts";
import { runningPid, startDetached, stopServer, waitUntilReady } from "./process.ts";
import { ensureSecret } from "./secrets.ts";
import { chownTo, serverHome, type ServerUser, serverUser, throwawayHome, writePrivateFile } from "./server-user.ts";
import type { LocalService } from "./service.ts";
import { aptInstall, commandPath } from "./system.ts";
import { freePort, launchThrowaway } from "./throwaway.ts";

/** The broker's start script and Erlang's port mapper. */
interface Binaries {
  server: string;
  epmd: string;
}

/**
 * Debian's `/usr/sbin/rabbitmq-server` runs the system's broker, as its user and with its settings, whatever it is
 * told: the script beneath it runs as told.
 */
function binaries(): Binaries | undefined {
  const server = commandPath("rabbitmq-server", ["/usr/lib/rabbitmq/bin"]);
  const epmd = commandPath("epmd", ["/usr/bin"]);
  return server && epmd ? { server, epmd } : undefined;
}

/**
 * Installs Debian's `rabbitmq-server` when RabbitMQ is missing. The package's scripts may not start the system's
 * broker (see {@link aptInstall}); an Erlang VM or port mapper that appears anyway, on 5672 or 4369 for all to
 * reach, is stopped.
 */
function installed(): Binaries {
  const found = binaries();
  if (found) return found;
  const before = new Set(erlangProcesses());
  if (aptInstall(["rabbitmq-server"], "rabbitmq")) {
    for (const pid of erlangProcesses().filter((pid) => !before.has(pid))) {
      console.log(`rabbitmq: stopping pid ${pid}, which the package's installation started`);
      process.kill(pid, "SIGTERM");
    }
  }
  const now = binaries();
  if (now) return now;
  throw new Error(
    "RabbitMQ (rabbitmq-server, epmd) was not found. Install it (Debian/Ubuntu: sudo apt-get install " +
      "rabbitmq-server; macOS: brew install rabbitmq) or point RABBITMQ_URL at a broker you already run.",
  );
}

/** Running Erlang VMs and port mappers. */
function erlangProcesses(): number[] {
  const found = spawnSync("pgrep", ["-x", "beam.smp|epmd"], { encoding: "utf8" }).stdout ?? "";
  return found.split("\n").filter(Boolean).map(Number);
}

/** Whether an AMQP broker at `url` takes its credentials and opens a channel. */
export async function amqpAnswers(url: string): Promise<boolean> {
  let connection: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    connection = await connect(url, { timeout: 2000 });
    connection.on("error", () => {});
    const channel = await connection.createChannel();
    await channel.close();
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => {});
  }
}

const epmdAnswers = (epmd: string, port: number) => spawnSync(epmd, ["-port", String(port), "-names"]).status === 0;

/** The port mapper of a broker: on loopback and a port of its own, so a system's epmd on 4369 is left alone. */
const epmdArgs = (port: number) => ["-port", String(port), "-address", "127.0.0.1"];

/** Where a broker keeps everything, and the ports it listens on. */
interface Broker {
  home: string;
  port: number;
  distPort: number;
  epmdPort: number;
}

/**
 * RabbitMQ's stored form of a password (`rabbit_password_hashing_sha256`): a 4-byte salt, then the SHA-256
 * of the salt and the password, in base64.
 */
function passwordHash(password: string): string {
  const salt = randomBytes(4);
  return Buffer.concat([salt, createHash("sha256").update(salt).update(password).digest()]).toString("base64");
}

/**
 * Writes the broker's configuration into its home (mode 0700, owned by `user`). The user `ingest` comes from a
 * definitions file the broker imports as it boots, every time: its password is the one given (the secret file
 * is what counts, as for MariaDB), only its hash is on disk, and no `guest` user is ever made.
 */
function configure(broker: Broker, password: string, user: ServerUser): void {
  const { home, port } = broker;
  mkdirSync(home, { recursive: true, mode: 0o700 });
  chownTo(home, user);
  const definitions = {
    users: [{
      name: "ingest",
      password_hash: passwordHash(password),
      hashing_algorithm: "rabbit_password_hashing_sha256",
      tags: ["administrator"],
    }],
    vhosts: [{ name: "/" }],
    permissions: [{ user: "ingest", vhost: "/", configure: ".*", write: ".*", read: ".*" }],
  };
  writePrivateFile(join(home, "definitions.json"), JSON.stringify(definitions, null, 2), user);
  writePrivateFile(
    join(home, "rabbitmq.conf"),
    [
      "# Written by ingest at each start: the broker of the local stack, on loopback only.",
      `listeners.tcp.1 = 127.0.0.1:${port}`,
      // Bound to loopback, the broker may let `ingest` in from there.
      "loopback_users = none",
      "definitions.import_backend = local_filesystem",
      `definitions.local.path = ${join(home, "definitions.json")}`,
      "log.file = rabbitmq.log",
      // Warnings and errors go to the console too, the stack's log, where a failed start is explained.
      "log.console = true",
      "log.console.level = warning",
      "log.console.use_colors = off",
      "",
    ].join("\n"),
    user,
  );
  writePrivateFile(join(home, "enabled_plugins"), "[].\n", user);
  // The Erlang cookie: whoever has it may run code in the broker.
  const cookie = join(home, ".erlang.cookie");
  if (!existsSync(cookie)) writePrivateFile(cookie, randomBytes(24).toString("hex"), user);
  // The node's name, unique to its home and kept with it: the data is the named node's.
  const name = join(home, "nodename");
  if (!existsSync(name)) writePrivateFile(name, `ingest-${randomBytes(4).toString("hex")}@localhost\n`, user);
}

/**
 * The broker's environment: everything in its home (none of `/etc/rabbitmq`, `/var/lib/rabbitmq` and the
 * RABBITMQ_ and ERL_ variables of the caller's), the Erlang distribution and port mapper on loopback.
 */
function brokerEnv({ home, distPort, epmdPort }: Broker): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !/^(RABBITMQ_|ERL_)/.test(name));
  return {
    ...Object.fromEntries(inherited),
    // Where Erlang reads the cookie.
    HOME: home,
    RABBITMQ_NODENAME: readFileSync(join(home, "nodename"), "utf8").trim(),
    // Not written: none of /etc/rabbitmq/rabbitmq-env.conf, conf.d or advanced.config applies.
    RABBITMQ_CONF_ENV_FILE: join(home, "rabbitmq-env.conf"),
    RABBITMQ_CONFIG_FILES: join(home, "conf.d"),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(home, "advanced.config"),
    RABBITMQ_CONFIG_FILE: join(home, "rabbitmq.conf"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(home, "enabled_plugins"),
    RABBITMQ_MNESIA_BASE: join(home, "data"),
    RABBITMQ_LOG_BASE: join(home, "log"),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: "-kernel inet_dist_use_interface {127,0,0,1}",
    ERL_EPMD_ADDRESS: "127.0.0.1",
    ERL_EPMD_PORT: String(epmdPort),
    ERL_CRASH_DUMP: join(home, "log", "erl_crash.dump"),
    // The script then runs the Erlang VM in its own place, as under systemd: the process started is the broker,
    // which stops cleanly on SIGTERM, rather than a shell between that relays signals.
    RUNNING_UNDER_SYSTEMD: "true",
  };
}

/**
 * RabbitMQ (Debian's `rabbitmq-server`, installed when missing; its package may not start the system's broker):
 * a broker of our own with everything in `<state>/rabbitmq`, AMQP on 127.0.0.1 at `INGEST_RABBITMQ_PORT`
 * (55672), the user `ingest` with the generated secret `rabbitmq`. Its Erlang distribution
 * (`INGEST_RABBITMQ_DIST_PORT`, 55673) and its own port mapper (`INGEST_RABBITMQ_EPMD_PORT`, 54369) listen on
 * 127.0.0.1 too; `stack down` stops both.
 */
export const rabbitmq: LocalService = {
  name: "rabbitmq",
  kind: "server",
  external: settings().rabbitmq.external,
  // The bundled sample's stock updates arrive through it; a project of its own names it when it wants one.
  sample: true,
  location() {
    const url = new URL(settings().rabbitmq.url);
    return `${url.protocol}//${url.host}${url.pathname}`;
  },
  isReachable: () => amqpAnswers(settings().rabbitmq.url),
  async start() {
    const { server, epmd } = installed();
    const user = serverUser("rabbitmq");
    const broker: Broker = {
      home: serverHome("rabbitmq", user),
      port: localPorts.rabbitmq,
      distPort: localPorts.rabbitmqDist,
      epmdPort: localPorts.rabbitmqEpmd,
    };
    configure(broker, ensureSecret("rabbitmq"), user);
    // Started before the broker, which would otherwise start one that nothing stops; one already there (another
    // state folder's, on the same port) serves too.
    if (!epmdAnswers(epmd, broker.epmdPort) && runningPid("rabbitmq-epmd") === undefined) {
      const pid = startDetached({ name: "rabbitmq-epmd", command: epmd, args: epmdArgs(broker.epmdPort), ...user });
      await waitUntilReady("rabbitmq-epmd", pid, async () => epmdAnswers(epmd, broker.epmdPort), 10_000);
    }
    const pid = startDetached({
      name: "rabbitmq",
      command: server,
      args: [],
      env: brokerEnv(broker),
      cwd: broker.home,
      ...user,
    });
    try {
      // settings() is read again: its URL carries the secret ensureSecret may just have made.
      await waitUntilReady("rabbitmq", pid, () => amqpAnswers(settings().rabbitmq.url), 120_000);
    } catch (error) {
      await stopBroker();
      throw error;
    }
  },
  stop: stopBroker,
};

/** Stops the stack's broker, then its port mapper (which the broker would otherwise start again). */
async function stopBroker(): Promise<boolean> {
  const broker = await stopServer("rabbitmq");
  const portMapper = await stopServer("rabbitmq-epmd");
  return broker || portMapper;
}

/** A RabbitMQ of a test's own, from {@link startThrowawayRabbitmq}. */
export interface ThrowawayRabbitmq {
  /** `amqp://ingest:<password>@127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** The broker's process, the Erlang VM (a new one after {@link ThrowawayRabbitmq.restart}). */
  readonly pid: number;
  /** Stops the broker and its port mapper, and deletes its data. */
  stop(): Promise<void>;
  /** SIGKILLs the broker: no clean shutdown, its data left as a crash leaves it. */
  kill(): void;
  /**
   * Starts the broker again on the same ports and data (stopping it first if it runs) and waits until it answers:
   * durable queues and their persistent messages are still there.
   */
  restart(): Promise<void>;
}

/**
 * Starts a fresh RabbitMQ with the stack's settings on free ports, its data in a temporary folder under the state
 * folder deleted when it stops (or when this process ends), for a test that must kill a broker without disturbing
 * the stack's.
 *
 * @example
 * ```ts
 * const broker = await startThrowawayRabbitmq();
 * try { ... broker.kill(); await broker.restart(); ... connect(broker.url) ... }
 * finally { await broker.stop(); }
 * ```
 */
export async function startThrowawayRabbitmq(): Promise<ThrowawayRabbitmq> {
  const { server: script, epmd } = installed();
  const user = serverUser("rabbitmq");
  const home = throwawayHome("rabbitmq", user);
  const ports = new Set<number>();
  while (ports.size < 3) ports.add(await freePort());
  const [port, distPort, epmdPort] = [...ports] as [number, number, number];
  const broker: Broker = { home, port, distPort, epmdPort };
  const password = randomBytes(18).toString("base64url");
  configure(broker, password, user);
  const url = `amqp://ingest:${password}@127.0.0.1:${port}`;
  const logFile = join(home, "server.log");
  const portMapper = await launchThrowaway({
    what: `a throwaway epmd on port ${epmdPort}`,
    command: epmd,
    args: epmdArgs(epmdPort),
    options: user,
    home,
    logFile,
    answers: async () => epmdAnswers(epmd, epmdPort),
    timeoutMs: 10_000,
  });
  const server = await launchThrowaway({
    what: `a throwaway RabbitMQ on port ${port}`,
    command: script,
    args: [],
    options: { ...user, env: brokerEnv(broker), cwd: home },
    home,
    logFile,
    answers: () => amqpAnswers(url),
  }).catch(async (error) => {
    await portMapper.stop();
    throw error;
  });
  return {
    url,
    port,
    get pid() {
      return server.pid;
    },
    async stop() {
      await server.stop();
      await portMapper.stop();
    },
    kill: () => server.kill(),
    restart: () => server.restart(),
  };
}
