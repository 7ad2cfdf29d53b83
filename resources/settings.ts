import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { registerSecret } from "./redact.ts";

/** The nearest folder at or above `start` that holds a package.json, or undefined at the file system's root. */
function nearestPackage(start: string): string | undefined {
  for (let dir = resolve(start);; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The folder of this package (`ingest-graph`): this repository, or `node_modules/ingest-graph` in a
 * project that installed it. The same whether the code runs from its `.ts` sources or from `dist/`.
 */
export const packageRoot = nearestPackage(join(here, "..")) ?? resolve(here, "..");

/** This package's version, as its package.json says. */
export const packageVersion: string =
  (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }).version;

/**
 * A module of this package by its path without extension (`"cli/main"`), as the running code has it:
 * the `.ts` source in this repository, the compiled `.js` in an installed package.
 */
export function codeFile(path: string): string {
  return join(here, "..", `${path}${extname(fileURLToPath(import.meta.url))}`);
}

/**
 * The project the CLI works for: the nearest folder with a package.json from the working directory
 * (`INGEST_PROJECT_DIR` names it instead). Its `.ingest/` holds the stack's state.
 */
export const projectDir = resolve(process.env.INGEST_PROJECT_DIR ?? nearestPackage(process.cwd()) ?? process.cwd());

/** Where the local stack keeps data, logs, pid files and generated secrets: `<project>/.ingest` (git-ignored). */
export const stateDir = resolve(process.env.INGEST_STATE_DIR ?? join(projectDir, ".ingest"));

/**
 * Where downloads and builds shared by every project of this user live: Neo4j's jars and launcher,
 * the embedding model. `INGEST_CACHE_DIR`, else `$XDG_CACHE_HOME/ingest-graph`, else `~/.cache/ingest-graph`.
 */
export const cacheDir = resolve(
  process.env.INGEST_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "ingest-graph"),
);
/** Where file-based sources land (CRM exports, chat exports, webhook deliveries); `ingest generate` writes the samples here. */
export const sourcesDir = resolve(process.env.INGEST_SOURCES_DIR ?? join(stateDir, "sources"));

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

/**
 * Ports of the private local stack, chosen away from each server's default so a user's own servers
 * are left alone (`INGEST_POSTGRES_PORT`, `INGEST_NEO4J_PORT`, `INGEST_CHROMA_PORT`, `INGEST_CRM_API_PORT`, `INGEST_SAMPLE_APIS_PORT`,
 * `INGEST_UI_PORT`, `INGEST_WEBHOOKS_PORT`, `INGEST_JAEGER_OTLP_GRPC_PORT`, `INGEST_JAEGER_OTLP_HTTP_PORT`, `INGEST_JAEGER_QUERY_PORT`,
 * `INGEST_JAEGER_QUERY_GRPC_PORT`, `INGEST_FERRETDB_PORT`, `INGEST_MARIADB_PORT`, `INGEST_KAFKA_PORT`,
 * `INGEST_KAFKA_CONTROLLER_PORT`, `INGEST_RABBITMQ_PORT`, `INGEST_RABBITMQ_DIST_PORT`,
 * `INGEST_RABBITMQ_EPMD_PORT` move them).
 */
export const localPorts = {
  postgres: port("INGEST_POSTGRES_PORT", 55432),
  neo4j: port("INGEST_NEO4J_PORT", 57687),
  chroma: port("INGEST_CHROMA_PORT", 58000),
  crmApi: port("INGEST_CRM_API_PORT", 58080),
  /** `ingest sample-apis`': the chat, shop GraphQL and payments APIs, under `/chat`, `/shop` and `/payments`. */
  sampleApis: port("INGEST_SAMPLE_APIS_PORT", 58082),
  /** `ingest ui`'s. */
  ui: port("INGEST_UI_PORT", 58090),
  /** `ingest webhooks`': the webhook receiver, `POST /webhooks/<source>`. */
  webhooks: port("INGEST_WEBHOOKS_PORT", 58084),
  jaegerOtlpGrpc: port("INGEST_JAEGER_OTLP_GRPC_PORT", 54317),
  jaegerOtlpHttp: port("INGEST_JAEGER_OTLP_HTTP_PORT", 54318),
  jaegerQuery: port("INGEST_JAEGER_QUERY_PORT", 56686),
  // Jaeger's query extension always serves gRPC too, on a port of its own.
  jaegerQueryGrpc: port("INGEST_JAEGER_QUERY_GRPC_PORT", 56685),
  /** FerretDB's MongoDB wire protocol. */
  ferretdb: port("INGEST_FERRETDB_PORT", 57017),
  /** MariaDB's, for the bundled CRM's own database. */
  mariadb: port("INGEST_MARIADB_PORT", 53306),
  /** RabbitMQ's AMQP listener. */
  rabbitmq: port("INGEST_RABBITMQ_PORT", 55672),
  /** RabbitMQ's Erlang distribution (its CLI tools talk to it there), away from the default 25672. */
  rabbitmqDist: port("INGEST_RABBITMQ_DIST_PORT", 55673),
  /** The Erlang port mapper (epmd) of the stack's RabbitMQ, away from a system epmd's 4369. */
  rabbitmqEpmd: port("INGEST_RABBITMQ_EPMD_PORT", 54369),
  /** Kafka's broker listener (PLAINTEXT), what clients bootstrap from. */
  kafka: port("INGEST_KAFKA_PORT", 59092),
  /** Kafka's KRaft controller listener: the broker's own, never a client's. */
  kafkaController: port("INGEST_KAFKA_CONTROLLER_PORT", 59093),
} as const;

export type SecretName =
  | "postgres"
  | "neo4j"
  | "crm"
  | "ferretdb"
  | "mariadb"
  | "rabbitmq"
  | "chat-api"
  | "shop-api"
  | "payments-api"
  | "chat-webhook";

/** A secret kept in the state folder by `ingest stack up`; undefined until it exists. */
export function stateSecret(name: SecretName): string | undefined {
  const file = secretPath(name);
  if (!existsSync(file)) return undefined;
  const value = readFileSync(file, "utf8").trim();
  registerSecret(value);
  return value;
}

export function secretPath(name: SecretName): string {
  return join(stateDir, "secrets", name);
}

function passwordOf(url: string | undefined): string | undefined {
  if (!url || !URL.canParse(url)) return undefined;
  return decodeURIComponent(new URL(url).password) || undefined;
}

/**
 * Reads `NAME` from the environment, or from the file named by `NAME_FILE` (Docker/Kubernetes secrets style),
 * and keeps its value out of every log line, span and error message from then on.
 *
 * @example
 * ```ts
 * const chat = defineWebhookSource({ name: "chat", scheme: "zendesk", secrets: () => [envSecret("WEBHOOK_SECRET_CHAT")] });
 * ```
 */
export function envSecret(name: string): string | undefined {
  const file = process.env[`${name}_FILE`];
  const value = process.env[name] || (file ? readFileSync(file, "utf8").trim() : undefined);
  // A URL is no secret as a whole; the password inside it is.
  registerSecret(name.endsWith("_URL") ? passwordOf(value) : value);
  return value;
}

/** Where Neo4j is and how to log in: what `connectNeo4j` and `neo4jResource` use. */
export interface Neo4jSettings {
  /** `NEO4J_URI`, else the local stack's `bolt://127.0.0.1:57687` (`INGEST_NEO4J_PORT` moves it). */
  uri: string;
  /** `NEO4J_USER`, else `neo4j`. */
  user: string;
  /**
   * `NEO4J_PASSWORD` (or the file `NEO4J_PASSWORD_FILE` names), else, without `NEO4J_URI`, the local
   * stack's generated one; undefined when there is none yet.
   */
  password: string | undefined;
  /** true when the URI came from the environment: `stack up` then only checks it, never starts a server. */
  external: boolean;
}

/**
 * Where every service is, as {@link settings} resolves it: environment variables first, then the
 * local stack's addresses and generated secrets (`ingest stack up`).
 */
export interface Settings {
  /** The framework's own database: graphile-worker queue, metadata store, staging. */
  databaseUrl: string;
  /** The bundled sample e-commerce source database (a real user points this at their shop's database). */
  shopDatabaseUrl: string;
  /** The graph database. */
  neo4j: Neo4jSettings;
  /** `CHROMA_URL`, else the local stack's `http://127.0.0.1:58000` (`INGEST_CHROMA_PORT` moves it). */
  chromaUrl: string;
  /** The CRM's REST API (HubSpot-shaped) and its OAuth2 client credentials. */
  crm: {
    /** `CRM_API_URL`, else the local sample CRM's `http://127.0.0.1:58080`. */
    url: string;
    /** `CRM_CLIENT_ID`, else `ingest-local`. */
    clientId: string;
    /** `CRM_CLIENT_SECRET` (or `CRM_CLIENT_SECRET_FILE`), else the local sample CRM's; undefined when there is none. */
    clientSecret: string | undefined;
  };
  /** The support chat's API (Zendesk-shaped) and its API token. */
  chatApi: {
    /** `CHAT_API_URL`, else the local sample's `http://127.0.0.1:58082/chat`: `/api/v2/…` is resolved against it. */
    url: string;
    /** `CHAT_API_TOKEN` (or `CHAT_API_TOKEN_FILE`), else the local sample's; undefined when there is none. */
    token: string | undefined;
  };
  /** The online store's GraphQL Admin API (Shopify-shaped) and its access token. */
  shopApi: {
    /** `SHOP_GRAPHQL_URL`, else the local sample's `http://127.0.0.1:58082/shop/admin/api/2025-01/graphql.json`. */
    url: string;
    /** `SHOP_ACCESS_TOKEN` (or `SHOP_ACCESS_TOKEN_FILE`), else the local sample's; undefined when there is none. */
    accessToken: string | undefined;
  };
  /** The payment provider's API (Stripe-shaped) and its secret key. */
  paymentsApi: {
    /** `PAYMENTS_API_URL`, else the local sample's `http://127.0.0.1:58082/payments`: `/v1/…` is resolved against it. */
    url: string;
    /** `PAYMENTS_SECRET_KEY` (or `PAYMENTS_SECRET_KEY_FILE`), else the local sample's; undefined when there is none. */
    secretKey: string | undefined;
  };
  /** A folder holding `<modelId>/config.json, tokenizer.json, onnx/model.onnx`. */
  modelPath: string;
  /** The bundled project's product catalogue and sessions, in MongoDB (the local stack's FerretDB). */
  mongo: {
    /**
     * `MONGODB_URL` (or the file `MONGODB_URL_FILE` names), else the local stack's
     * `mongodb://ferretdb:…@127.0.0.1:57017/catalog?authMechanism=PLAIN` (`INGEST_FERRETDB_PORT` moves it).
     */
    url: string;
    /** true when `MONGODB_URL` set it: `stack up` then only checks it, never starts FerretDB. */
    external: boolean;
  };
  /** The bundled CRM's own database, in MySQL or MariaDB (the local stack's MariaDB). */
  mariadb: {
    /**
     * `MARIADB_URL` (or the file `MARIADB_URL_FILE` names), else the local stack's
     * `mysql://ingest:…@127.0.0.1:53306/crm` (`INGEST_MARIADB_PORT` moves it).
     */
    url: string;
    /** true when `MARIADB_URL` set it: `stack up` then only checks it, never starts MariaDB. */
    external: boolean;
  };
  /** The message broker, over AMQP 0-9-1 (the local stack's RabbitMQ). */
  rabbitmq: {
    /**
     * `RABBITMQ_URL` (or the file `RABBITMQ_URL_FILE` names), else the local stack's
     * `amqp://ingest:…@127.0.0.1:55672` (`INGEST_RABBITMQ_PORT` moves it).
     */
    url: string;
    /** true when `RABBITMQ_URL` set it: `stack up` then only checks it, never starts RabbitMQ. */
    external: boolean;
  };
  /** The Kafka cluster (the local stack's single KRaft node). */
  kafka: {
    /** `KAFKA_BROKERS` (comma-separated `host:port`), else the local stack's `127.0.0.1:59092` (`INGEST_KAFKA_PORT` moves it). */
    brokers: string[];
    /** true when `KAFKA_BROKERS` set it: `stack up` then only checks it, never starts Kafka. */
    external: boolean;
  };
  /** Where traces go and are read back: the local stack's Jaeger (`ingest stack up jaeger`) or your own. */
  jaeger: {
    /** `JAEGER_QUERY_URL`, else the local stack's `http://127.0.0.1:56686`: the query API (`/api/traces/<traceId>`). */
    queryUrl: string;
    /**
     * The local stack's OTLP/HTTP endpoint, `http://127.0.0.1:54318` (`INGEST_JAEGER_OTLP_HTTP_PORT` moves
     * it): give it as `OTEL_EXPORTER_OTLP_ENDPOINT` to trace into the stack's Jaeger.
     */
    otlpEndpoint: string;
  };
  /**
   * Which services the environment names (`DATABASE_URL`, `CHROMA_URL`, `EMBEDDING_MODEL_PATH`, `JAEGER_QUERY_URL`):
   * `ingest stack up` only checks those, and connection errors say where the address came from.
   */
  external: {
    /** `DATABASE_URL` is set. */
    postgres: boolean;
    /** `CHROMA_URL` is set. */
    chroma: boolean;
    /** `EMBEDDING_MODEL_PATH` is set. */
    model: boolean;
    /** `JAEGER_QUERY_URL` is set. */
    jaeger: boolean;
  };
}

const localSampleApis = () => `http://127.0.0.1:${localPorts.sampleApis}`;

function localDatabaseUrl(database: string): string {
  const password = stateSecret("postgres") ?? "";
  return `postgres://ingest:${encodeURIComponent(password)}@127.0.0.1:${localPorts.postgres}/${database}`;
}

/**
 * Resolves where every service is: environment overrides first, then the local stack's defaults. Read
 * afresh on each call (secret files included), so set the environment before the first connection.
 * Throws only when a `*_FILE` variable names a file that cannot be read.
 *
 * @example
 * ```ts
 * const { url, clientId, clientSecret } = settings().crm;
 * const pool = createPool(settings().databaseUrl);
 * ```
 */
export function settings(): Settings {
  const databaseUrl = envSecret("DATABASE_URL");
  const neo4jUri = process.env.NEO4J_URI;
  const chromaUrl = process.env.CHROMA_URL;
  const modelPath = process.env.EMBEDDING_MODEL_PATH;
  const jaegerQueryUrl = process.env.JAEGER_QUERY_URL;
  const mongoUrl = envSecret("MONGODB_URL");
  const mariadbUrl = envSecret("MARIADB_URL");
  const rabbitmqUrl = envSecret("RABBITMQ_URL");
  const kafkaBrokers = process.env.KAFKA_BROKERS?.split(",").map((broker) => broker.trim()).filter(Boolean);
  return {
    databaseUrl: databaseUrl ?? localDatabaseUrl("ingest"),
    shopDatabaseUrl: envSecret("SHOP_DATABASE_URL") ?? databaseUrl ?? localDatabaseUrl("shop"),
    neo4j: {
      uri: neo4jUri ?? `bolt://127.0.0.1:${localPorts.neo4j}`,
      user: process.env.NEO4J_USER ?? "neo4j",
      password: envSecret("NEO4J_PASSWORD") ?? (neo4jUri ? undefined : stateSecret("neo4j")),
      external: neo4jUri !== undefined,
    },
    chromaUrl: chromaUrl ?? `http://127.0.0.1:${localPorts.chroma}`,
    crm: {
      url: process.env.CRM_API_URL ?? `http://127.0.0.1:${localPorts.crmApi}`,
      clientId: process.env.CRM_CLIENT_ID ?? "ingest-local",
      clientSecret: envSecret("CRM_CLIENT_SECRET") ?? stateSecret("crm"),
    },
    chatApi: {
      url: process.env.CHAT_API_URL ?? `${localSampleApis()}/chat`,
      token: envSecret("CHAT_API_TOKEN") ?? stateSecret("chat-api"),
    },
    shopApi: {
      url: process.env.SHOP_GRAPHQL_URL ?? `${localSampleApis()}/shop/admin/api/2025-01/graphql.json`,
      accessToken: envSecret("SHOP_ACCESS_TOKEN") ?? stateSecret("shop-api"),
    },
    paymentsApi: {
      url: process.env.PAYMENTS_API_URL ?? `${localSampleApis()}/payments`,
      secretKey: envSecret("PAYMENTS_SECRET_KEY") ?? stateSecret("payments-api"),
    },
    modelPath: resolve(modelPath ?? join(cacheDir, "models")),
    mongo: {
      url: mongoUrl ??
        `mongodb://ferretdb:${
          encodeURIComponent(stateSecret("ferretdb") ?? "")
        }@127.0.0.1:${localPorts.ferretdb}/catalog?authMechanism=PLAIN`,
      external: mongoUrl !== undefined,
    },
    mariadb: {
      url: mariadbUrl ??
        `mysql://ingest:${encodeURIComponent(stateSecret("mariadb") ?? "")}@127.0.0.1:${localPorts.mariadb}/crm`,
      external: mariadbUrl !== undefined,
    },
    rabbitmq: {
      url: rabbitmqUrl ??
        `amqp://ingest:${encodeURIComponent(stateSecret("rabbitmq") ?? "")}@127.0.0.1:${localPorts.rabbitmq}`,
      external: rabbitmqUrl !== undefined,
    },
    kafka: {
      brokers: kafkaBrokers?.length ? kafkaBrokers : [`127.0.0.1:${localPorts.kafka}`],
      external: Boolean(kafkaBrokers?.length),
    },
    jaeger: {
      queryUrl: jaegerQueryUrl ?? `http://127.0.0.1:${localPorts.jaegerQuery}`,
      otlpEndpoint: `http://127.0.0.1:${localPorts.jaegerOtlpHttp}`,
    },
    external: {
      postgres: databaseUrl !== undefined,
      chroma: chromaUrl !== undefined,
      model: modelPath !== undefined,
      jaeger: jaegerQueryUrl !== undefined,
    },
  };
}
