import { readdirSync, readFileSync, readlinkSync } from "node:fs";

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
  const ipv4 = (hex: string) => hex.match(/../g)!.reverse().map((byte) => parseInt(byte, 16)).join(".");
  const bound: string[] = [];
  for (const table of ["tcp", "tcp6", "udp", "udp6"]) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, "utf8").trim().split("\n").slice(1)) {
      const [, local, , state, , , , , , inode] = line.trim().split(/\s+/);
      const [address, port] = local!.split(":");
      // 0A is LISTEN for TCP; 07 (CLOSE) is a bound, unconnected UDP socket.
      if (!inodes.has(inode!) || state !== (table.startsWith("tcp") ? "0A" : "07")) continue;
      bound.push(`${address!.length === 8 ? ipv4(address!) : `[${address}]`}:${parseInt(port!, 16)}`);
    }
  }
  return bound.sort();
}
