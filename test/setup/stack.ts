import { type ServiceStatus, stackDown, stackUp } from "../../stack/stack.ts";

const started: string[] = [];

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
  try {
    const up = await stackUp([], report);
    if (!up.some((s) => s.name === "jaeger")) await stackUp(["jaeger"], report);
  } catch (error) {
    // vitest skips teardown when setup throws: stop here what this run started before failing.
    await stackDown(started);
    throw error;
  }
}

export async function teardown(): Promise<void> {
  if (process.env.INGEST_KEEP_STACK || started.length === 0) return;
  await stackDown(started);
}
