import { bool, ConfigError, int, oneOf, str, type Env, type NodeEnv } from '../config';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../db/page-size';

export type RateLimitStore = 'postgres' | 'redis';

export interface InputLimits {
  /** Bytes of one JSON argument value (its JSON text). */
  jsonBytes: number;
  /** Values (objects, arrays, scalars) in one JSON argument value. */
  jsonNodes: number;
  /** Bytes of a list of JSON values taken in one call: appendExecutionLog's entries. */
  logBytes: number;
  /** Characters of any string argument (a field's own, smaller rule still applies). */
  stringLength: number;
  /** Characters of a paging cursor (`after`, `before`). */
  cursorLength: number;
}

/** Everything about who may call the gateway and how much: tokens, JWTs, limits, secrets, runSql. */
export interface SecurityConfig {
  auth: {
    /** Development only: requests without a token may read (never write). Refused in production. */
    anonymousRead: boolean;
    /** How long a verified API token is remembered (0: checked in the database on every request). */
    tokenCacheSeconds: number;
    jwt?: {
      /** HS256/384/512 shared secret (secret) or an identity provider's key set (jwksUrl). */
      secret?: string;
      jwksUrl?: string;
      issuer?: string;
      audience?: string;
      /** The claim holding viewer | operator | admin (dots reach into nested claims). */
      roleClaim: string;
    };
  };
  limits: {
    /** Refused before execution when an operation's computed cost is higher. */
    maxCost: number;
    /** Cost points a token may spend per minute, shared by every gateway instance. */
    budgetPerMinute: number;
    /** The page size of a list or connection asked without first/last (also what the cost limit assumes). */
    defaultPageSize: number;
    store: RateLimitStore;
    redisUrl?: string;
    maxAliases: number;
    maxDirectives: number;
    /** Apollo's parseOptions.maxTokens: a document with more lexical tokens is refused before parsing ends. */
    maxTokens: number;
    /** Deepest nesting of a JSON value (variables, JSON literals in the document). */
    maxJsonDepth: number;
    batching: boolean;
  };
  /** Caps on what a client sends, checked once per field over all its arguments (input-limits.ts). */
  input: InputLimits;
  secrets: {
    /** Key id -> 32-byte AES-256 key. The active key encrypts; every listed key decrypts. */
    keys: ReadonlyMap<string, Buffer>;
    activeKeyId: string;
    /** True when no SECRETS_KEYS were given (development and tests only): a fixed, public key. */
    insecureDevelopmentKey: boolean;
  };
  runSql: {
    enabled: boolean;
    /**
     * The console role's connection (secret: holds a password). Unset: the gateway's own database
     * settings, which runSql refuses when that user is (or can become) a superuser.
     */
    databaseUrl?: string;
    statementTimeoutMs: number;
    rowLimit: number;
    /** A longer cell is cut to this many bytes (in SQL: the whole value never reaches Node). */
    cellBytes: number;
    /** Rows stop being added once the answer holds this many bytes of JSON. */
    answerBytes: number;
    /** Outside production only: let runSql run as a superuser (our statement checks remain). */
    allowSuperuser: boolean;
  };
  /** `npm run db:init`: who creates the roles, and the owner role it makes (see db-roles.ts). */
  roles: {
    /** Superuser (or CREATEROLE + CREATEDB) credentials for db:init; unset: the gateway's own. */
    adminUser?: string;
    adminPassword?: string;
    ownerUser: string;
    ownerPassword?: string;
  };
  /** Security headers on every HTTP response (on by default). */
  securityHeaders: boolean;
}

// Public by design: only used when SECRETS_KEYS is unset outside production, so development works
// out of the box; the gateway logs a warning while it is in use.
const DEVELOPMENT_KEY_ID = 'dev-insecure';
const DEVELOPMENT_KEY = Buffer.alloc(32, 7);

/** SECRETS_KEYS: `id:base64key[,id:base64key...]`, each key 32 bytes (`openssl rand -base64 32`). */
function parseKeys(raw: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const colon = part.indexOf(':');
    if (colon < 1) throw new ConfigError('SECRETS_KEYS', 'expected id:base64key pairs separated by commas, e.g. k2026:$(openssl rand -base64 32)');
    const id = part.slice(0, colon);
    if (!/^[\w.-]{1,32}$/.test(id)) throw new ConfigError('SECRETS_KEYS', `key id "${id}" must be 1-32 letters, digits, '.', '_' or '-'`);
    const key = Buffer.from(part.slice(colon + 1), 'base64');
    if (key.length !== 32) throw new ConfigError('SECRETS_KEYS', `key "${id}" must decode to 32 bytes (got ${key.length}); make one with: openssl rand -base64 32`);
    if (keys.has(id)) throw new ConfigError('SECRETS_KEYS', `key id "${id}" is listed twice`);
    keys.set(id, key);
  }
  if (keys.size === 0) throw new ConfigError('SECRETS_KEYS', 'lists no key');
  return keys;
}

function runSqlConfig(env: Env, isProduction: boolean): SecurityConfig['runSql'] {
  const databaseUrl = str(env, 'RUN_SQL_DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^/@]+@/.test(databaseUrl)) {
    throw new ConfigError('RUN_SQL_DATABASE_URL', 'expected postgres://<console role>:<password>@host:5432/db, e.g. the role npm run db:init creates');
  }
  const allowSuperuser = bool(env, 'RUN_SQL_ALLOW_SUPERUSER', false);
  if (allowSuperuser && isProduction) {
    throw new ConfigError('RUN_SQL_ALLOW_SUPERUSER', 'cannot be on in production: runSql must run as the console role (RUN_SQL_DATABASE_URL)');
  }
  return {
    enabled: bool(env, 'RUN_SQL_ENABLED', false),
    databaseUrl,
    statementTimeoutMs: int(env, 'RUN_SQL_TIMEOUT_MS', 5_000, 1, 600_000),
    rowLimit: int(env, 'RUN_SQL_ROW_LIMIT', 1_000, 1, 100_000),
    cellBytes: int(env, 'RUN_SQL_CELL_BYTES', 4_096, 16, 10_485_760),
    answerBytes: int(env, 'RUN_SQL_ANSWER_BYTES', 1_048_576, 1_024, 104_857_600),
    allowSuperuser,
  };
}

export function securityConfig(env: Env, nodeEnv: NodeEnv): SecurityConfig {
  const isProduction = nodeEnv === 'production';
  const anonymousRead = bool(env, 'AUTH_ANONYMOUS_READ', false);
  if (anonymousRead && isProduction) {
    throw new ConfigError('AUTH_ANONYMOUS_READ', 'cannot be on in production: every request there needs a token');
  }

  const jwtSecret = str(env, 'JWT_SECRET');
  const jwksUrl = str(env, 'JWT_JWKS_URL');
  if (jwtSecret && jwksUrl) throw new ConfigError('JWT_SECRET', 'set either JWT_SECRET or JWT_JWKS_URL, not both');
  if (jwtSecret && Buffer.byteLength(jwtSecret) < 32) throw new ConfigError('JWT_SECRET', 'must be at least 32 bytes long (HS256 needs a 256-bit secret)');
  if (jwksUrl && !/^https?:\/\//.test(jwksUrl)) throw new ConfigError('JWT_JWKS_URL', 'expected an http(s) URL');

  const store = oneOf(env, 'RATE_LIMIT_STORE', ['postgres', 'redis'] as const, str(env, 'REDIS_URL') ? 'redis' : 'postgres');
  const redisUrl = str(env, 'REDIS_URL');
  if (store === 'redis' && !redisUrl) throw new ConfigError('REDIS_URL', 'is required when RATE_LIMIT_STORE=redis, e.g. redis://127.0.0.1:6379');

  const rawKeys = str(env, 'SECRETS_KEYS');
  if (!rawKeys && isProduction) {
    throw new ConfigError('SECRETS_KEYS', 'is required in production to encrypt integration credentials: SECRETS_KEYS=k1:$(openssl rand -base64 32)');
  }
  const keys = rawKeys ? parseKeys(rawKeys) : new Map([[DEVELOPMENT_KEY_ID, DEVELOPMENT_KEY]]);
  const activeKeyId = str(env, 'SECRETS_ACTIVE_KEY_ID') ?? [...keys.keys()][0];
  if (!keys.has(activeKeyId)) throw new ConfigError('SECRETS_ACTIVE_KEY_ID', `names no key in SECRETS_KEYS (have: ${[...keys.keys()].join(', ')})`);

  return {
    auth: {
      anonymousRead,
      tokenCacheSeconds: int(env, 'AUTH_TOKEN_CACHE_SECONDS', 10, 0, 300),
      jwt:
        jwtSecret || jwksUrl
          ? { secret: jwtSecret, jwksUrl, issuer: str(env, 'JWT_ISSUER'), audience: str(env, 'JWT_AUDIENCE'), roleClaim: str(env, 'JWT_ROLE_CLAIM') ?? 'role' }
          : undefined,
    },
    limits: {
      maxCost: int(env, 'GRAPHQL_MAX_COST', 10_000, 1, 10_000_000),
      budgetPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 100_000, 1, 1_000_000_000),
      defaultPageSize: int(env, 'GRAPHQL_DEFAULT_PAGE_SIZE', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE),
      store,
      redisUrl,
      maxAliases: int(env, 'GRAPHQL_MAX_ALIASES', 30, 0, 10_000),
      maxDirectives: int(env, 'GRAPHQL_MAX_DIRECTIVES', 50, 0, 10_000),
      maxTokens: int(env, 'GRAPHQL_MAX_TOKENS', 5_000, 100, 1_000_000),
      maxJsonDepth: int(env, 'GRAPHQL_MAX_JSON_DEPTH', 32, 2, 1_000),
      batching: bool(env, 'GRAPHQL_BATCHING', false),
    },
    input: {
      jsonBytes: int(env, 'INPUT_MAX_JSON_BYTES', 65_536, 1_024, 16_777_216),
      jsonNodes: int(env, 'INPUT_MAX_JSON_NODES', 10_000, 10, 1_000_000),
      logBytes: int(env, 'INPUT_MAX_LOG_BYTES', 65_536, 1_024, 16_777_216),
      stringLength: int(env, 'INPUT_MAX_STRING_LENGTH', 100_000, 1_000, 10_000_000),
      cursorLength: int(env, 'INPUT_MAX_CURSOR_LENGTH', 1_024, 64, 65_536),
    },
    secrets: { keys, activeKeyId, insecureDevelopmentKey: !rawKeys },
    runSql: runSqlConfig(env, isProduction),
    roles: {
      adminUser: str(env, 'DB_ADMIN_USER'),
      adminPassword: str(env, 'DB_ADMIN_PASSWORD'),
      ownerUser: str(env, 'DB_OWNER_USER') ?? 'taskmaster_owner',
      ownerPassword: str(env, 'DB_OWNER_PASSWORD'),
    },
    securityHeaders: bool(env, 'SECURITY_HEADERS', true),
  };
}
