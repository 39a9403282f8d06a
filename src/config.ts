import { healthConfig, type HealthConfig } from './health/health.config';
import { ideConfig, type IdeConfig } from './ide/ide.config';

/**
 * The one place that reads the environment. `loadConfig` parses it once at start-up into a frozen,
 * typed object; everything else receives that object. Errors name the variable and the fix.
 */
import { securityConfig, type SecurityConfig } from './security/security.config';
import { subscriptionsConfig, type SubscriptionsConfig } from './subscriptions/subscriptions.config';
import { tunnelConfig, type TunnelConfig } from './tunnel/tunnel.config';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type NodeEnv = 'development' | 'production' | 'test';
export type SslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';
export type LogLevel = 'error' | 'warn' | 'info' | 'http' | 'verbose' | 'debug' | 'silly';

export interface DatabaseConfig {
  /** A connection string, or undefined when the embedded PostgreSQL is used. */
  url?: string;
  host: string;
  port: number;
  name: string;
  user: string;
  /** Secret: never logged. */
  password?: string;
  sslMode: SslMode;
  sslCaFile?: string;
  pool: {
    min: number;
    max: number;
    idleTimeoutMs: number;
    /** How long a query waits for a free connection before failing (pg's default, 0, waits forever). */
    connectionTimeoutMs: number;
    statementTimeoutMs: number;
    /** Seconds after which a connection is closed and replaced (0 = never): spreads load after a failover. */
    maxLifetimeSeconds: number;
    /** Statements after which a connection is closed and replaced (0 = unlimited). */
    maxUses: number;
  };
  /** Statements slower than this are logged (ms). */
  slowQueryMs: number;
  /** Set when neither DATABASE_URL nor DB_HOST is given: the gateway starts its own PostgreSQL. */
  embedded?: { dataDir: string; port: number };
  runMigrations: boolean;
  /** How long start-up keeps retrying an unreachable database before giving up (seconds). */
  connectTimeoutSeconds: number;
}

export interface Config {
  nodeEnv: NodeEnv;
  isProduction: boolean;
  host: string;
  port: number;
  logLevel: LogLevel;
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
  /** The GraphQL IDE (GraphiQL served locally): GRAPHQL_IDE. */
  ide: IdeConfig;
  writes: {
    /** How long an idempotency key and its stored answer are kept (hours): IDEMPOTENCY_TTL_HOURS. */
    idempotencyTtlHours: number;
  };
  /** Graceful drain on SIGTERM (src/http-drain.ts). */
  shutdown: {
    /** Keep serving this long after /ready turns 503, so a load balancer stops sending (ms). */
    delayMs: number;
    /** Overall deadline from the signal; then running statements are cancelled and the exit is non-zero (ms). */
    timeoutMs: number;
  };
  /** GraphQL subscriptions over WebSocket (src/subscriptions/). */
  subscriptions: SubscriptionsConfig;
}

export type Env = Record<string, string | undefined>;

/*
 * Readers for one variable each. Feature modules (tunnel, security, ...) use them to parse their own
 * section, so every error has the same shape: it names the variable and says what was expected.
 */
export function str(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `expected a number from ${min} to ${max}, got ${value}`);
  }
  return value;
}

export function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = str(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function databaseConfig(env: Env, nodeEnv: NodeEnv): DatabaseConfig {
  const url = str(env, 'DATABASE_URL');
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError('DATABASE_URL', 'expected a postgres:// or postgresql:// URL');
  }
  const host = str(env, 'DB_HOST');
  const embedded = url === undefined && host === undefined;
  const embeddedPort = int(env, 'EMBEDDED_PG_PORT', 54329, 1, 65535);
  const poolMin = int(env, 'DB_POOL_MIN', 2, 0, 1000);
  const poolMax = int(env, 'DB_POOL_MAX', 10, 1, 1000);
  if (poolMin > poolMax) {
    throw new ConfigError('DB_POOL_MIN', `must not exceed DB_POOL_MAX (${poolMin} > ${poolMax})`);
  }
  const sslMode = oneOf(env, 'DB_SSL_MODE', ['disable', 'require', 'verify-ca', 'verify-full'] as const, 'disable');
  const sslCaFile = str(env, 'DB_SSL_CA_FILE');
  if ((sslMode === 'verify-ca' || sslMode === 'verify-full') && sslCaFile === undefined) {
    throw new ConfigError('DB_SSL_CA_FILE', `is required when DB_SSL_MODE=${sslMode}: the path of the server's CA certificate`);
  }
  return {
    url,
    host: host ?? '127.0.0.1',
    port: embedded ? embeddedPort : int(env, 'DB_PORT', 5432, 1, 65535),
    name: str(env, 'DB_NAME') ?? (embedded ? 'taskmaster' : 'postgres'),
    user: str(env, 'DB_USER') ?? 'postgres',
    password: str(env, 'DB_PASSWORD') ?? (embedded ? 'postgres' : undefined),
    sslMode,
    sslCaFile,
    pool: {
      min: poolMin,
      max: poolMax,
      idleTimeoutMs: int(env, 'DB_POOL_IDLE_TIMEOUT', 10_000, 0, 3_600_000),
      connectionTimeoutMs: int(env, 'DB_POOL_CONNECTION_TIMEOUT', 5_000, 1, 600_000),
      statementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT', 30_000, 0, 3_600_000),
      maxLifetimeSeconds: int(env, 'DB_POOL_MAX_LIFETIME', 1_800, 0, 604_800),
      maxUses: int(env, 'DB_POOL_MAX_USES', 0, 0, 1_000_000_000),
    },
    slowQueryMs: int(env, 'DB_SLOW_QUERY_MS', 500, 1, 3_600_000),
    embedded: embedded ? { dataDir: str(env, 'EMBEDDED_PG_DATA_DIR') ?? '.data/postgres', port: embeddedPort } : undefined,
    runMigrations: bool(env, 'DB_RUN_MIGRATIONS', embedded || nodeEnv !== 'production'),
    connectTimeoutSeconds: int(env, 'DB_CONNECT_TIMEOUT_SECONDS', 60, 0, 86_400),
  };
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const isProduction = nodeEnv === 'production';
  const config: Config = {
    nodeEnv,
    isProduction,
    host: str(env, 'HOST') ?? '0.0.0.0',
    port: int(env, 'PORT', 4000, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const, 'info'),
    db: databaseConfig(env, nodeEnv),
    graphql: {
      depthLimit: int(env, 'GRAPHQL_DEPTH_LIMIT', 10, 1, 100),
      bodyLimitBytes: int(env, 'GRAPHQL_BODY_LIMIT_BYTES', 1_048_576, 1_024, 104_857_600),
      introspection: bool(env, 'GRAPHQL_INTROSPECTION', !isProduction),
      sqlCountHeader: bool(env, 'GRAPHQL_SQL_COUNT_HEADER', !isProduction),
    },
    security: securityConfig(env, nodeEnv),
    tunnel: tunnelConfig(env),
    health: healthConfig(env),
    ide: ideConfig(env, isProduction),
    writes: { idempotencyTtlHours: int(env, 'IDEMPOTENCY_TTL_HOURS', 24, 1, 8760) },
    shutdown: shutdownConfig(env, isProduction),
    subscriptions: subscriptionsConfig(env),
  };
  return deepFreeze(config);
}

function shutdownConfig(env: Env, isProduction: boolean): Config['shutdown'] {
  const delayMs = int(env, 'SHUTDOWN_DELAY_MS', isProduction ? 5_000 : 0, 0, 600_000);
  const timeoutMs = int(env, 'SHUTDOWN_TIMEOUT_MS', 25_000, 1_000, 3_600_000);
  if (delayMs >= timeoutMs) throw new ConfigError('SHUTDOWN_DELAY_MS', `must be less than SHUTDOWN_TIMEOUT_MS (${delayMs} >= ${timeoutMs})`);
  return { delayMs, timeoutMs };
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child);
  }
  return Object.freeze(value);
}
