/** One piece of the local stack: something `ingest stack up` makes reachable and `stack down` stops. */
export interface LocalService {
  name: string;
  /** A server runs as a process; files (the embedding model) are only fetched. */
  kind: "server" | "files";
  /** Where the service is expected, without credentials. */
  location(): string;
  /** True when the location was given by the environment: then the stack checks it but never starts it. */
  external: boolean;
  isReachable(): Promise<boolean>;
  /**
   * Part of the bundled sample project only (the sample CRM API): `stack up` without names starts it
   * in this repository, and elsewhere only when named.
   */
  sample?: boolean;
  /**
   * Slow to install (Jaeger's first build takes minutes): `stack up`, `down` and `status` without
   * names leave it out unless it already runs; named, it starts.
   */
  optional?: boolean;
  /** Installs what is missing, starts the server and resolves once it really answers. */
  start(): Promise<void>;
  /**
   * Stops what `stack up` started for it, where that is more than the process of its pid file (RabbitMQ's
   * port mapper); true when something was stopped. Without it, `stack down` stops that process.
   */
  stop?(): Promise<boolean>;
}
