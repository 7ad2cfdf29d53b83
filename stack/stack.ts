import { chroma } from "./chroma.ts";
import { crmApi } from "./crm-api.ts";
import { ferretdb } from "./ferretdb.ts";
import { sampleApis } from "./sample-apis.ts";
import { jaeger } from "./jaeger.ts";
import { kafka } from "./kafka.ts";
import { mariadb } from "./mariadb.ts";
import { embeddingModel } from "./model.ts";
import { neo4j } from "./neo4j.ts";
import { postgres } from "./postgres.ts";
import { rabbitmq } from "./rabbitmq.ts";
import { ui } from "./ui.ts";
import { logFile, runningPid, stopServer, withStackLock } from "./process.ts";
import type { LocalService } from "./service.ts";
import { packageRoot, projectDir } from "../resources/settings.ts";

export const services: Record<string, LocalService> = {
  postgres,
  ferretdb,
  neo4j,
  chroma,
  model: embeddingModel,
  "crm-api": crmApi,
  mariadb,
  kafka,
  rabbitmq,
  "sample-apis": sampleApis,
  jaeger,
  ui,
};
export type ServiceName = keyof typeof services;

export interface ServiceStatus {
  name: string;
  kind: LocalService["kind"];
  location: string;
  reachable: boolean;
  /** "ours" when `stack up` started the running process, "external" when configured by the environment. */
  managedBy: "ours" | "external" | "other" | "none";
  pid?: number;
  /** Seconds the start took, when this call started it. */
  startSeconds?: number;
}

async function selected(names: string[]): Promise<LocalService[]> {
  if (names.length === 0) {
    const candidates = Object.values(services).filter((s) => !s.sample || projectDir === packageRoot);
    const included = await Promise.all(
      candidates.map((s) => !s.optional || runningPid(s.name) !== undefined || s.isReachable()),
    );
    return candidates.filter((_, i) => included[i]);
  }
  return names.map((name) => {
    const service = services[name];
    if (!service) throw new Error(`unknown service '${name}'; known: ${Object.keys(services).join(", ")}`);
    return service;
  });
}

async function statusOf(service: LocalService, startSeconds?: number): Promise<ServiceStatus> {
  const reachable = await service.isReachable();
  const pid = runningPid(service.name);
  const managedBy = service.external ? "external" : pid ? "ours" : reachable ? "other" : "none";
  return {
    name: service.name,
    kind: service.kind,
    location: service.location(),
    reachable,
    managedBy,
    pid,
    startSeconds,
  };
}

/**
 * Makes each service reachable, starting only those that are not. Services start one after another:
 * on two cores, Neo4j's JVM and Chroma starting together are each slower than in turn.
 */
export function stackUp(names: string[] = [], report: (s: ServiceStatus) => void = () => {}): Promise<ServiceStatus[]> {
  return withStackLock(() => startMissing(names, report));
}

async function startMissing(names: string[], report: (s: ServiceStatus) => void): Promise<ServiceStatus[]> {
  const statuses: ServiceStatus[] = [];
  for (const service of await selected(names)) {
    if (await service.isReachable()) {
      statuses.push(await statusOf(service));
    } else if (service.external) {
      throw new Error(
        `${service.name} is configured at ${service.location()} by the environment but is not reachable there`,
      );
    } else {
      const started = performance.now();
      await service.start();
      statuses.push(await statusOf(service, (performance.now() - started) / 1000));
    }
    report(statuses.at(-1)!);
  }
  return statuses;
}

/** Stops the servers `stack up` started, and nothing else. */
export function stackDown(names: string[] = []): Promise<string[]> {
  return withStackLock(async () => {
    const stopped: string[] = [];
    for (const service of (await selected(names)).reverse()) {
      if (await (service.stop?.() ?? stopServer(service.name))) stopped.push(service.name);
    }
    return stopped;
  });
}

export async function stackStatus(names: string[] = []): Promise<ServiceStatus[]> {
  return Promise.all((await selected(names)).map((service) => statusOf(service)));
}

export { logFile };
