import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** An IPv4 address as /proc/net/tcp has it: the four bytes in reverse, in hex. */
const ipv4 = (hex: string) => hex.match(/../g)!.reverse().map((byte) => parseInt(byte, 16)).join(".");

/**
 * An IPv6 address as /proc/net/tcp6 has it (four 32-bit words, each in reverse byte order), as text:
 * `[::1]`, `[::]`, `[::ffff:127.0.0.1]` for an IPv4 address taken on an IPv6 socket.
 */
function ipv6(hex: string): string {
  const bytes = hex.match(/.{8}/g)!.flatMap((word) => word.match(/../g)!.reverse()).map((b) => parseInt(b, 16));
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `[::ffff:${bytes.slice(12).join(".")}]`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16));
  // The URL parser writes an IPv6 host in its shortest form.
  return new URL(`http://[${groups.join(":")}]/`).hostname;
}

/** The sockets `pid` has bound (TCP listening, UDP bound), as `address:port`, read from /proc. */
export function boundSockets(pid: number): string[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
      } catch {
        return undefined; // closed while we looked
      }
    }).filter((inode) => inode !== undefined),
  );
  const bound: string[] = [];
  for (const table of ["tcp", "tcp6", "udp", "udp6"]) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, "utf8").trim().split("\n").slice(1)) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      const [address, port] = local!.split(":");
      // 0A is LISTEN for TCP; 07 (CLOSE) is a bound, unconnected UDP socket.
      if (!inodes.has(inode!) || state !== (table.startsWith("tcp") ? "0A" : "07")) continue;
      bound.push(`${address!.length === 8 ? ipv4(address!) : ipv6(address!)}:${parseInt(port!, 16)}`);
    }
  }
  return bound.sort();
}

/** Whether a socket of {@link boundSockets} is reachable from this machine only: 127.0.0.0/8 or ::1, as v4 or v6. */
export function isLoopback(socket: string): boolean {
  const address = socket.slice(0, socket.lastIndexOf(":"));
  return /^127\.\d+\.\d+\.\d+$/.test(address) || address === "[::1]" ||
    /^\[::ffff:127\.\d+\.\d+\.\d+\]$/.test(address);
}

/** `pid` and every process below it (a server's workers, a launcher's JVM), read from /proc. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The parent is the field after the command name, which is in parentheses and may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // ended while we looked
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}
