import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ServiceStatus, stackDown, stackUp } from "../../stack/stack.ts";
import { recordFigure } from "../reliability.ts";
import { describeHits, describeScan, scanForSecrets, secretsToFind } from "../secrets-scan.ts";

const started: string[] = [];
const suiteStarted = new Date();
/** Where test/processes.ts keeps what the CLI printed, for the secrets scan. */
let outputFolder: string | undefined;

function report(s: ServiceStatus): void {
  console.log(
    `stack: ${s.name} ${s.startSeconds === undefined ? "already up" : `started in ${s.startSeconds.toFixed(1)}s`}`,
  );
  if (s.startSeconds !== undefined && s.kind === "server") started.push(s.name);
}

/**
 * Brings up what the tests need and, afterwards, stops only what this run started. Jaeger, optional
 * in `stack up`, is named: tests read their traces back from it.
 */
export async function setup(): Promise<void> {
  // Set before the test files' processes start: they, and the CLI processes they start, inherit it.
  outputFolder = mkdtempSync(join(tmpdir(), "ingest-suite-output-"));
  process.env.INGEST_TEST_OUTPUT_DIR = outputFolder;
  try {
    const up = await stackUp([], report);
    if (!up.some((s) => s.name === "jaeger")) await stackUp(["jaeger"], report);
  } catch (error) {
    // vitest skips teardown when setup throws: stop here what this run started before failing.
    await stackDown(started);
    throw error;
  }
}

/**
 * After every test file: no log, trace, CLI output or database row holds a secret, and the secret files are
 * their owner's alone (test/secrets-scan.ts); a finding fails the suite, naming where and which secret. Then
 * what this run started is stopped.
 */
export async function teardown(): Promise<void> {
  let findings: string[] = [];
  try {
    const scan = await scanForSecrets({ since: suiteStarted });
    findings = describeHits(scan);
    recordFigure(
      "secrets found in logs, traces, CLI output and dead letters",
      scan.hits.length,
      "occurrences",
      "<= 0",
      `after the suite: ${secretsToFind().size} secrets looked for in ${
        describeScan(scan)
      }; ${scan.looseModes.length} secret files readable by others`,
    );
    console.log(`secrets scan: ${describeScan(scan)}: ${findings.length === 0 ? "nothing found" : "FOUND"}`);
  } finally {
    if (!process.env.INGEST_KEEP_STACK && started.length > 0) await stackDown(started);
    if (outputFolder) rmSync(outputFolder, { recursive: true, force: true });
  }
  if (findings.length > 0) {
    throw new Error(`secrets where none may be (the secrets themselves are not shown):\n${findings.join("\n")}`);
  }
}
