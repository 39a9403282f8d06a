/**
 * The one place that reads the environment. `loadConfig` parses it once at start-up into a frozen,
 * typed object; everything else receives that object. Every variable is defined once in
 * ./variables.ts (name, default, bounds, meaning); errors name the variable and the fix. This
 * folder imports nothing from the rest of src/: features depend on it, never the other way.
 */
import { databaseConfig, type DatabaseConfig } from './database';
import { healthConfig, type HealthConfig } from './health';
import { retentionConfig, type RetentionConfig } from './retention';
import { reader, type Reader } from './reader';
import { securityConfig, type SecurityConfig } from './security';
import { subscriptionsConfig, type SubscriptionsConfig } from './subscriptions';
import { tunnelConfig, type TunnelConfig } from './tunnel';
import { ConfigError, type Env } from './variable';
import { webhooksConfig, type WebhooksConfig } from './webhooks';

export type { DatabaseConfig, ReplicaConfig, SslMode } from './database';
export type { HealthConfig, HealthThresholds } from './health';
export type { RetentionConfig } from './retention';
export type { Reader } from './reader';
export type { InputLimits, RateLimitStore, SecurityConfig } from './security';
export type { SubscriptionsConfig } from './subscriptions';
export type { WebhooksConfig } from './webhooks';
export type { DatabaseExposure, DisabledTunnelConfig, EnabledTunnelConfig, ExtraIngressRule, OriginTimeouts, TunnelConfig } from './tunnel';
export { ConfigError, type Env } from './variable';
export { VARIABLES, type VariableName } from './variables';
export { reader, tunnelConfig };

export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug' | 'silly';

export interface IdeConfig {
  /** Serve GraphiQL at GET /graphql (for browsers), /graphiql and /playground. */
  enabled: boolean;
}

export interface Config {
  nodeEnv: NodeEnv;
  isProduction: boolean;
  host: string;
  port: number;
  logLevel: LogLevel;
  /** What a stranger's sockets may hold (src/http/body.ts BodyBudget, the server's timeouts in src/http/server.ts). */
  http: {
    /** Sockets open at once; beyond it new ones are closed on accept (server.maxConnections). */
    maxConnections: number;
    /** Request body bytes buffered at once across all requests; beyond it 503 + Retry-After. */
    bodyBytesInFlight: number;
    /** Absolute deadline for a request's headers, from its first byte (server.headersTimeout). */
    headersTimeoutSeconds: number;
    /** More seconds for the body: the whole request arrives within headers + body seconds (server.requestTimeout). */
    bodyTimeoutSeconds: number;
  };
  db: DatabaseConfig;
  graphql: {
    depthLimit: number;
    bodyLimitBytes: number;
    introspection: boolean;
    /** Answer each GraphQL request with an X-SQL-Statements header (off in production). */
    sqlCountHeader: boolean;
  };
  security: SecurityConfig;
  /** Cloudflare tunnel config generated at start-up (src/tunnel/). */
  tunnel: TunnelConfig;
  health: HealthConfig;
  /** What is kept how long (src/retention/): RETENTION_*, *_RETENTION_DAYS. */
  retention: RetentionConfig;
  /** The GraphQL IDE (GraphiQL served locally): GRAPHQL_IDE. */
  ide: IdeConfig;
  writes: {
    /** How long an idempotency key and its stored answer are kept (hours): IDEMPOTENCY_TTL_HOURS. */
    idempotencyTtlHours: number;
  };
  /** The agent work protocol (src/queue/): QUEUE_* variables. */
  queue: QueueConfig;
  /** Graceful drain on SIGTERM (src/http/drain.ts). */
  shutdown: {
    /** Keep serving this long after /ready turns 503, so a load balancer stops sending (ms). */
    delayMs: number;
    /** Overall deadline from the signal; then running statements are cancelled and the exit is non-zero (ms). */
    timeoutMs: number;
  };
  /** GraphQL subscriptions over WebSocket (src/subscriptions/). */
  subscriptions: SubscriptionsConfig;
  /** Webhooks (src/webhooks/). */
  webhooks: WebhooksConfig;
}

export function loadConfig(env: Env = process.env): Config {
  const r = reader(env);
  const config: Config = {
    nodeEnv: r.oneOf('NODE_ENV'),
    isProduction: r.situation.isProduction,
    host: r.text('HOST')!,
    port: r.int('PORT'),
    logLevel: r.oneOf('LOG_LEVEL'),
    http: httpConfig(r),
    db: databaseConfig(r),
    graphql: {
      depthLimit: r.int('GRAPHQL_DEPTH_LIMIT'),
      bodyLimitBytes: r.int('GRAPHQL_BODY_LIMIT_BYTES'),
      introspection: r.bool('GRAPHQL_INTROSPECTION'),
      sqlCountHeader: r.bool('GRAPHQL_SQL_COUNT_HEADER'),
    },
    security: securityConfig(r),
    tunnel: tunnelConfig(r),
    health: healthConfig(r),
    retention: retentionConfig(r),
    ide: { enabled: r.bool('GRAPHQL_IDE') },
    writes: { idempotencyTtlHours: r.int('IDEMPOTENCY_TTL_HOURS') },
    shutdown: shutdownConfig(r),
    queue: queueConfig(r),
    subscriptions: subscriptionsConfig(r),
    webhooks: webhooksConfig(r),
  };
  return deepFreeze(config);
}

export interface QueueConfig {
  defaultLeaseSeconds: number;
  leaseGraceSeconds: number;
  reaperIntervalMs: number;
  defaultMaxAttempts: number;
  backoffMinSeconds: number;
  backoffMaxSeconds: number;
  maxWaitSeconds: number;
}

function queueConfig(r: Reader): QueueConfig {
  const backoffMinSeconds = r.int('QUEUE_RETRY_BACKOFF_MIN_SECONDS');
  const backoffMaxSeconds = r.int('QUEUE_RETRY_BACKOFF_MAX_SECONDS');
  if (backoffMinSeconds > backoffMaxSeconds)
    throw new ConfigError(
      'QUEUE_RETRY_BACKOFF_MIN_SECONDS',
      `must be at most QUEUE_RETRY_BACKOFF_MAX_SECONDS (${backoffMinSeconds} > ${backoffMaxSeconds})`,
    );
  return {
    defaultLeaseSeconds: r.int('QUEUE_DEFAULT_LEASE_SECONDS'),
    leaseGraceSeconds: r.int('QUEUE_LEASE_GRACE_SECONDS'),
    reaperIntervalMs: r.int('QUEUE_REAPER_INTERVAL_MS'),
    defaultMaxAttempts: r.int('QUEUE_DEFAULT_MAX_ATTEMPTS'),
    backoffMinSeconds,
    backoffMaxSeconds,
    maxWaitSeconds: r.int('QUEUE_MAX_WAIT_SECONDS'),
  };
}

function httpConfig(r: Reader): Config['http'] {
  const bodyBytesInFlight = r.int('HTTP_BODY_BYTES_IN_FLIGHT');
  const bodyLimit = r.int('GRAPHQL_BODY_LIMIT_BYTES');
  if (bodyBytesInFlight < bodyLimit)
    throw new ConfigError(
      'HTTP_BODY_BYTES_IN_FLIGHT',
      `must be at least GRAPHQL_BODY_LIMIT_BYTES (${bodyBytesInFlight} < ${bodyLimit}), or no body of the largest size is ever read`,
    );
  return {
    maxConnections: r.int('HTTP_MAX_CONNECTIONS'),
    bodyBytesInFlight,
    headersTimeoutSeconds: r.int('HTTP_HEADERS_TIMEOUT_SECONDS'),
    bodyTimeoutSeconds: r.int('HTTP_BODY_TIMEOUT_SECONDS'),
  };
}

function shutdownConfig(r: Reader): Config['shutdown'] {
  const delayMs = r.int('SHUTDOWN_DELAY_MS');
  const timeoutMs = r.int('SHUTDOWN_TIMEOUT_MS');
  if (delayMs >= timeoutMs)
    throw new ConfigError('SHUTDOWN_DELAY_MS', `must be less than SHUTDOWN_TIMEOUT_MS (${delayMs} >= ${timeoutMs})`);
  return { delayMs, timeoutMs };
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child);
  }
  return Object.freeze(value);
}
