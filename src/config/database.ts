import type { Reader } from './reader';
import { ConfigError } from './variable';

export type SslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

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
  embedded?: { dataDir: string; port: number; /** Streaming replicas to start beside it (EMBEDDED_PG_REPLICAS). */ replicas: number };
  /** Streaming read replicas (DATABASE_REPLICA_URLS, DB_REPLICA_*; src/db/replicas.ts). */
  replicas: ReplicaConfig;
  runMigrations: boolean;
  /** How long start-up keeps retrying an unreachable database before giving up (seconds). */
  connectTimeoutSeconds: number;
}

export interface ReplicaConfig {
  /** Connection strings of the replicas (secret: they may hold passwords). */
  urls: string[];
  /** How long a read with a read-after position waits for a replica to replay it (ms). */
  waitMs: number;
  /** How long a token's mutation pins its reads to the mutation's WAL position (ms; 0 = off). */
  pinMs: number;
  /** Replay lag beyond which a replica leaves rotation (ms). */
  maxLagMs: number;
  /** Interval of the lag and reachability check (ms). */
  checkMs: number;
}

function replicaConfig(r: Reader): ReplicaConfig {
  const urls = (r.text('DATABASE_REPLICA_URLS') ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  for (const [i, url] of urls.entries()) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new ConfigError('DATABASE_REPLICA_URLS', `entry ${i + 1} is not a postgres:// or postgresql:// URL (comma-separated URLs)`);
    }
  }
  return {
    urls,
    waitMs: r.int('DB_REPLICA_WAIT_MS'),
    pinMs: r.int('DB_REPLICA_PIN_MS'),
    maxLagMs: r.int('DB_REPLICA_MAX_LAG_MS'),
    checkMs: r.int('DB_REPLICA_CHECK_MS'),
  };
}

export function databaseConfig(r: Reader): DatabaseConfig {
  const url = r.text('DATABASE_URL');
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError('DATABASE_URL', 'expected a postgres:// or postgresql:// URL');
  }
  const host = r.text('DB_HOST');
  const { embedded } = r.situation;
  const embeddedPort = r.int('EMBEDDED_PG_PORT');
  const poolMin = r.int('DB_POOL_MIN');
  const poolMax = r.int('DB_POOL_MAX');
  if (poolMin > poolMax) {
    throw new ConfigError('DB_POOL_MIN', `must not exceed DB_POOL_MAX (${poolMin} > ${poolMax})`);
  }
  const sslMode = r.oneOf('DB_SSL_MODE');
  const sslCaFile = r.text('DB_SSL_CA_FILE');
  if ((sslMode === 'verify-ca' || sslMode === 'verify-full') && sslCaFile === undefined) {
    throw new ConfigError('DB_SSL_CA_FILE', `is required when DB_SSL_MODE=${sslMode}: the path of the server's CA certificate`);
  }
  return {
    url,
    host: host ?? '127.0.0.1',
    port: embedded ? embeddedPort : r.int('DB_PORT'),
    name: r.text('DB_NAME')!,
    user: r.text('DB_USER')!,
    password: r.text('DB_PASSWORD'),
    sslMode,
    sslCaFile,
    pool: {
      min: poolMin,
      max: poolMax,
      idleTimeoutMs: r.int('DB_POOL_IDLE_TIMEOUT'),
      connectionTimeoutMs: r.int('DB_POOL_CONNECTION_TIMEOUT'),
      statementTimeoutMs: r.int('DB_STATEMENT_TIMEOUT'),
      maxLifetimeSeconds: r.int('DB_POOL_MAX_LIFETIME'),
      maxUses: r.int('DB_POOL_MAX_USES'),
    },
    slowQueryMs: r.int('DB_SLOW_QUERY_MS'),
    embedded: embedded
      ? { dataDir: r.text('EMBEDDED_PG_DATA_DIR')!, port: embeddedPort, replicas: r.int('EMBEDDED_PG_REPLICAS') }
      : undefined,
    replicas: replicaConfig(r),
    runMigrations: r.bool('DB_RUN_MIGRATIONS'),
    connectTimeoutSeconds: r.int('DB_CONNECT_TIMEOUT_SECONDS'),
  };
}
