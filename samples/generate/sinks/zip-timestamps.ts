import { open } from "node:fs/promises";

// MS-DOS date/time of 2026-01-01 00:00:00: ((2026 - 1980) << 9) | (1 << 5) | 1, and 00:00:00.
const DOS_DATE = ((2026 - 1980) << 9) | (1 << 5) | 1;
const DOS_TIME = 0;

/**
 * Sets every entry's modification time in a zip file to a fixed instant, in both the local headers and the
 * central directory. The zip writer under exceljs stamps entries with the current time; nothing else in the
 * archive varies, so this makes the file byte-for-byte reproducible. CRCs cover data only and stay valid.
 */
export async function fixZipTimestamps(path: string): Promise<void> {
  const file = await open(path, "r+");
  try {
    const { size } = await file.stat();
    const buffer = Buffer.alloc(size);
    await file.read(buffer, 0, size, 0);
    // end of central directory record: signature 0x06054b50, searched backwards past a possible comment
    let end = -1;
    for (let at = size - 22; at >= Math.max(0, size - 22 - 0xffff); at--) {
      if (buffer.readUInt32LE(at) === 0x06054b50) {
        end = at;
        break;
      }
    }
    if (end < 0) throw new Error(`${path}: not a zip file`);
    const entries = buffer.readUInt16LE(end + 10);
    let at = buffer.readUInt32LE(end + 16);
    for (let n = 0; n < entries; n++) {
      if (buffer.readUInt32LE(at) !== 0x02014b50) throw new Error(`${path}: bad central directory entry ${n}`);
      buffer.writeUInt16LE(DOS_TIME, at + 12);
      buffer.writeUInt16LE(DOS_DATE, at + 14);
      const local = buffer.readUInt32LE(at + 42);
      if (buffer.readUInt32LE(local) !== 0x04034b50) throw new Error(`${path}: bad local header ${n}`);
      buffer.writeUInt16LE(DOS_TIME, local + 10);
      buffer.writeUInt16LE(DOS_DATE, local + 12);
      at += 46 + buffer.readUInt16LE(at + 28) + buffer.readUInt16LE(at + 30) + buffer.readUInt16LE(at + 32);
    }
    await file.write(buffer, 0, size, 0);
  } finally {
    await file.close();
  }
}
