import { type AlertsConfig, resolveAlerts } from "./config.ts";

/** An alert channel as `ingest alerts` names it: never its URL's path, secret or password. */
export interface ChannelSummary {
  id: string;
  kind: string;
  description: string;
}

/**
 * The channels alerts go to (the definitions' and the environment's), or why they cannot be resolved:
 * what `ingest alerts --json` and the UI show above the incidents.
 */
export function alertChannels(
  config: AlertsConfig | undefined,
): { channels: ChannelSummary[]; channelProblem?: string } {
  try {
    return { channels: resolveAlerts(config).channels.map(({ id, kind, description }) => ({ id, kind, description })) };
  } catch (error) {
    return { channels: [], channelProblem: error instanceof Error ? error.message : String(error) };
  }
}
