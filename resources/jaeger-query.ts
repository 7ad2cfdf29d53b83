import { runningPid } from "./local-services.ts";
import { settings } from "./settings.ts";

/**
 * Where a trace can be read: the query API of the Jaeger the traces go to (`JAEGER_QUERY_URL`, or the
 * local stack's while it runs), else nowhere we know of. The address carries no credentials.
 */
export function traceUrlOf(): ((traceId: string) => string) | undefined {
  const { jaeger, external } = settings();
  if (!external.jaeger && runningPid("jaeger") === undefined) return undefined;
  return (traceId) => `${jaeger.queryUrl}/api/traces/${traceId}`;
}
