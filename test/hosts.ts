import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { packageRoot, settings } from "../resources/settings.ts";

/**
 * Worker "hosts" on this one machine: each an `ingest worker` process with a home, cache, state and
 * working folder of its own, configured only by the environment a host elsewhere would have (addresses
 * and credential files), and, where the machine allows (root, `ip netns`), in a network namespace and
 * UTS namespace of its own, reaching the servers over a veth pair.
 */

const node = join(packageRoot, "node_modules", ".bin", "node");
const cli = join(packageRoot, "cli", "main.ts");

/** The servers a worker host reaches, as this process finds them; `databaseUrl` names the queue's database. */
const servers = (databaseUrl = settings().databaseUrl) => {
  const { neo4j, chromaUrl } = settings();
  return { postgres: new URL(databaseUrl), neo4j: new URL(neo4j.uri), chroma: new URL(chromaUrl) };
};
type Service = keyof ReturnType<typeof servers>;

/** Whether this process may make network namespaces and veth pairs (root, and `ip netns` works). */
export function namespacesAvailable(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = `igprobe${process.pid % 100_000}`;
  try {
    execFileSync("ip", ["netns", "add", probe], { stdio: "ignore" });
    execFileSync("ip", ["netns", "del", probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * A host's own network: a namespace whose one link is a veth pair to this one. The stack's servers
 * listen on 127.0.0.1 only, which no other namespace can reach, so for each server a forwarder listens
 * on this side's end of the pair, on a port of its own (never the server's: nothing but the server
 * listens on a stack port), and accepts connections from the namespace's address only.
 */
export interface HostNetwork {
  namespace: string;
  /** The address of this side of the pair: what the host connects to. */
  gateway: string;
  /** The namespace's address. */
  address: string;
  /** The port of each server's forwarder, on the gateway. */
  ports: Record<Service, number>;
  /** Connections forwarded so far, by server. */
  forwarded: Record<Service, number>;
  close(): Promise<void>;
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });

/** A namespace `name` (at most 12 characters) linked to this one over 10.77.`subnet`.`4*index`/30. */
export async function hostNetwork(name: string, subnet: number, index: number): Promise<HostNetwork> {
  const [gateway, address] = [`10.77.${subnet}.${4 * index + 1}`, `10.77.${subnet}.${4 * index + 2}`];
  const [outside, inside] = [`${name}o`, `${name}i`];
  ip("netns", "add", name);
  const sockets = new Set<Socket>();
  const forwarders: Server[] = [];
  try {
    ip("link", "add", outside, "type", "veth", "peer", "name", inside);
    ip("link", "set", inside, "netns", name);
    ip("addr", "add", `${gateway}/30`, "dev", outside);
    ip("link", "set", outside, "up");
    ip("-n", name, "addr", "add", `${address}/30`, "dev", inside);
    ip("-n", name, "link", "set", inside, "up");
    ip("-n", name, "link", "set", "lo", "up");
    const forwarded = { postgres: 0, neo4j: 0, chroma: 0 };
    const ports = { postgres: 0, neo4j: 0, chroma: 0 };
    for (const [service, url] of Object.entries(servers()) as [Service, URL][]) {
      const server = createServer((socket) => {
        if (socket.remoteAddress !== address) return socket.destroy();
        forwarded[service] += 1;
        const upstream = connect(Number(url.port), url.hostname);
        for (const s of [socket, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
        }
        // A server that is down or goes away resets the host's connection, as a refused or broken one would.
        upstream.on("error", () => socket.destroyed || socket.resetAndDestroy());
        socket.on("error", () => upstream.destroy());
        socket.pipe(upstream).pipe(socket);
      });
      forwarders.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, gateway, resolve);
      });
      ports[service] = (server.address() as AddressInfo).port;
    }
    return {
      namespace: name,
      gateway,
      address,
      ports,
      forwarded,
      async close() {
        for (const s of sockets) s.destroy();
        await Promise.all(forwarders.map((f) => new Promise((resolve) => f.close(resolve))));
        // Deleting the namespace deletes its end of the pair, and with it this one.
        ip("netns", "del", name);
      },
    };
  } catch (error) {
    for (const f of forwarders) f.close();
    ip("netns", "del", name);
    throw error;
  }
}

/** Whether `port` on `host` accepts a connection from inside the namespace `namespace`. */
export function reachableFrom(namespace: string, host: string, port: number): boolean {
  const probe = `require("node:net").connect(${port}, ${JSON.stringify(host)})` +
    `.on("connect", () => process.exit(0)).on("error", () => process.exit(3)).setTimeout(3000, () => process.exit(4))`;
  try {
    execFileSync("ip", ["netns", "exec", namespace, node, "-e", probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** A worker host: its folders and how to start `ingest worker` on it. */
export interface Host {
  name: string;
  dir: string;
  network?: HostNetwork;
  /** Starts `ingest --definitions <definitions> worker --concurrency <n>` on the host; resolves once it says it started. */
  start(definitions: string, concurrency: number): Promise<ChildProcess>;
}

/**
 * A host named `name` under `dir`: `home/`, `cache/`, `state/`, `tmp/`, `work/` (its working folder) and
 * `secrets/` (the database URL and Neo4j password, mode 0600), its workers' logs in `worker-<n>.log`. Its
 * workers use the database `databaseUrl` names (default the stack's); `env` is added to what they are given.
 */
export function workerHost(
  name: string,
  dir: string,
  options: { network?: HostNetwork; databaseUrl?: string; env?: Record<string, string> } = {},
): Host {
  const { network } = options;
  for (const folder of ["home", "cache", "state", "tmp", "work", "secrets"]) {
    mkdirSync(join(dir, folder), { recursive: true });
  }
  const urls = servers(options.databaseUrl);
  const reach = (service: Service) => {
    const moved = new URL(urls[service]);
    if (network) [moved.hostname, moved.port] = [network.gateway, String(network.ports[service])];
    return moved.href.replace(/\/$/, "");
  };
  const secret = (file: string, value: string) => {
    writeFileSync(join(dir, "secrets", file), value, { mode: 0o600 });
    return join(dir, "secrets", file);
  };
  const env = {
    PATH: `${join(packageRoot, "node_modules", ".bin")}:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: join(dir, "home"),
    XDG_CACHE_HOME: join(dir, "cache"),
    TMPDIR: join(dir, "tmp"),
    INGEST_STATE_DIR: join(dir, "state"),
    DATABASE_URL_FILE: secret("database-url", reach("postgres")),
    NEO4J_URI: reach("neo4j"),
    NEO4J_USER: settings().neo4j.user,
    NEO4J_PASSWORD_FILE: secret("neo4j-password", settings().neo4j.password ?? ""),
    CHROMA_URL: reach("chroma"),
    // The model is not downloaded again on each host; and two hosts share two cores.
    EMBEDDING_MODEL_PATH: settings().modelPath,
    EMBEDDING_THREADS: "1",
    LOG_FORMAT: "json",
    ...options.env,
  };
  let started = 0;
  return {
    name,
    dir,
    network,
    async start(definitions, concurrency) {
      const log = join(dir, `worker-${++started}.log`);
      const args = [cli, "--definitions", definitions, "worker", "--concurrency", String(concurrency)];
      // ip netns exec, unshare and sh each exec the next: the child's pid is the worker's.
      const [command, commandArgs] = network
        ? [
          "ip",
          ["netns", "exec", network.namespace, "unshare", "--uts", "--", "sh", "-c", 'hostname "$0" && exec "$@"', name]
            .concat([node, ...args]),
        ]
        : [node, args];
      const fd = openSync(log, "a");
      const child = spawn(command, commandArgs, { cwd: join(dir, "work"), env, stdio: ["ignore", fd, fd] });
      const deadline = Date.now() + 60_000;
      while (!(existsSync(log) && readFileSync(log, "utf8").includes('"msg":"worker started"'))) {
        if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
          child.kill("SIGKILL");
          throw new Error(`the worker on ${name} did not start:\n${readFileSync(log, "utf8")}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return child;
    },
  };
}
