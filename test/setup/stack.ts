import { stackDown, stackUp } from "../../stack/stack.ts";

const started: string[] = [];

/** Brings up what the tests need and, afterwards, stops only what this run started. */
export async function setup(): Promise<void> {
  try {
    await stackUp([], (s) => {
      console.log(
        `stack: ${s.name} ${s.startSeconds === undefined ? "already up" : `started in ${s.startSeconds.toFixed(1)}s`}`,
      );
      if (s.startSeconds !== undefined && s.kind === "server") started.push(s.name);
    });
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
