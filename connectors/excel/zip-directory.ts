import { open } from "node:fs/promises";

const endOfDirectory = 0x06054b50;
const directoryEntry = 0x02014b50;
const localHeader = 0x04034b50;
/** Sizes are in a data descriptor after the entry's data, not in its local header. */
const sizesAfterData = 0x08;

/**
 * What is wrong with a zip file's structure, or undefined: its central directory (at its end) must be there,
 * and every entry's local header (where a streaming reader such as exceljs's unzipper finds it) must say what the
 * directory says of it. A streaming reader trusts the local headers alone, and one damaged there can leave it
 * waiting for data that never comes: a read that never ends. A zip64 entry's sizes are not compared.
 */
export async function zipDirectoryProblem(path: string): Promise<string | undefined> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    const read = async (position: number, length: number) => {
      const bytes = Buffer.alloc(Math.max(0, Math.min(length, size - position)));
      if (bytes.length > 0) await file.read(bytes, 0, bytes.length, position);
      return bytes;
    };
    // the end-of-directory record: 22 bytes and a comment of up to 64 KiB, the last thing in the file
    const tailStart = Math.max(0, size - 22 - 0xffff);
    const tail = await read(tailStart, size - tailStart);
    let end = -1;
    for (let i = tail.length - 22; i >= 0 && end === -1; i--) if (tail.readUInt32LE(i) === endOfDirectory) end = i;
    if (end === -1) return "no zip central directory (truncated, or not a zip)";
    const entries = tail.readUInt16LE(end + 10);
    const directorySize = tail.readUInt32LE(end + 12);
    const directoryStart = tail.readUInt32LE(end + 16);
    if (directoryStart + directorySize > tailStart + end) return "the central directory lies outside the file";
    const directory = await read(directoryStart, directorySize);
    let at = 0;
    for (let n = 0; n < entries; n++) {
      if (at + 46 > directory.length || directory.readUInt32LE(at) !== directoryEntry) {
        return `central directory entry ${n + 1} of ${entries} is damaged`;
      }
      const entry = {
        flags: directory.readUInt16LE(at + 8),
        method: directory.readUInt16LE(at + 10),
        compressed: directory.readUInt32LE(at + 20),
        uncompressed: directory.readUInt32LE(at + 24),
        name: directory.subarray(at + 46, at + 46 + directory.readUInt16LE(at + 28)),
        offset: directory.readUInt32LE(at + 42),
      };
      at += 46 + entry.name.length + directory.readUInt16LE(at + 30) + directory.readUInt16LE(at + 32);
      const local = await read(entry.offset, 30 + entry.name.length);
      const named = JSON.stringify(entry.name.toString("utf8"));
      if (local.length < 30 || local.readUInt32LE(0) !== localHeader) return `no local header for entry ${named}`;
      const same = local.readUInt16LE(6) === entry.flags && local.readUInt16LE(8) === entry.method &&
        local.readUInt16LE(26) === entry.name.length && local.subarray(30).equals(entry.name);
      const zip64 = entry.compressed === 0xffffffff || entry.uncompressed === 0xffffffff;
      const sizes = (entry.flags & sizesAfterData) !== 0 || zip64 ||
        (local.readUInt32LE(18) === entry.compressed && local.readUInt32LE(22) === entry.uncompressed);
      if (!same || !sizes) return `the local header of entry ${named} does not match the central directory`;
    }
    return undefined;
  } finally {
    await file.close();
  }
}
