import { readFileSync } from "node:fs";

/**
 * This process's peak resident memory, in MiB: `VmHWM` of /proc/self/status on Linux. Not
 * `process.resourceUsage().maxRSS`: Linux carries a process's maxrss across exec, so a child spawned
 * by a bench holding 400 MiB reports at least 400 MiB whatever it used itself. Elsewhere, maxRSS.
 */
export function peakRssMiB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** The same for a Python reference, as a Python expression (the script must `import re`). */
export const pythonPeakRssMiB =
  `int(re.search(r"^VmHWM:\\s+(\\d+) kB$", open("/proc/self/status").read(), re.M).group(1)) / 1024`;
