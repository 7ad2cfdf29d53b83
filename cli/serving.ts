/**
 * Prints `ready` and waits for SIGTERM or SIGINT, then runs `stop`. The handlers go in before `ready` is
 * printed: a signal sent on reading it must find them.
 */
export async function serveUntilSignal(ready: string, stop: () => Promise<void>): Promise<void> {
  const stopped = new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  console.log(ready);
  await stopped;
  await stop();
}

/** A listen failure as the CLI says it: a port in use names what may serve there already. */
export function listenFailure(error: unknown, port: number, what: string): unknown {
  if ((error as { code?: string }).code !== "EADDRINUSE") return error;
  return new Error(
    `port ${port} on 127.0.0.1 is in use: the local stack may serve ${what} there already (ingest stack status); give another with --port`,
  );
}
