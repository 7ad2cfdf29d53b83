import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../resources/settings.ts";

/** A shell code block of the README, with the `##`/`###` heading it sits under. */
export interface ShellBlock {
  heading: string;
  /** Its command lines: comments after `#` removed, continuation lines joined, blank lines left out. */
  commands: string[];
}

/** The heading of the README section whose commands `test/integration/package.test.ts` runs, in a project of its own. */
export const walkthroughHeading = "Writing your own project";

/** Every ```sh block of the README, in order. */
export function readmeShellBlocks(file = join(packageRoot, "README.md")): ShellBlock[] {
  const blocks: ShellBlock[] = [];
  let heading = "";
  let inBlock: string[] | undefined;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (inBlock) {
      if (line.startsWith("```")) {
        blocks.push({ heading, commands: joinContinuations(inBlock) });
        inBlock = undefined;
      } else {
        inBlock.push(line);
      }
      continue;
    }
    const title = /^#{2,3} (.+)$/.exec(line);
    if (title) heading = title[1]!.trim();
    if (/^```(sh|bash|shell)\s*$/.test(line)) inBlock = [];
  }
  return blocks;
}

function joinContinuations(lines: string[]): string[] {
  const commands: string[] = [];
  let pending = "";
  for (const raw of lines) {
    const line = withoutComment(raw).trimEnd();
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const command = (pending + line.trim()).trim();
    pending = "";
    if (command) commands.push(command);
  }
  return commands;
}

/** The line up to a `#` that starts a shell comment (at the start or after a blank, outside quotes). */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') {
      quote = c;
    } else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  return line;
}
