import { originList } from './origins';
import type { Reader } from './reader';
import { ConfigError } from './variable';

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
  /** Items of any list in an input, at any depth (a list with its own cap in `listCaps` keeps it). */
  listItems: number;
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
      /** `exp` is required and at most this far ahead of now and of `iat`. */
      maxLifetimeSeconds: number;
      /** Tolerance for `exp` just past and `iat`/`nbf` just ahead. */
      clockSkewSeconds: number;
    };
  };
  /** Who may read GET /metrics: `Bearer <token>` when set; anyone when `open` (development, no token). */
  metrics: { token?: string; open: boolean };
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
    /** work_mem per statement (kB), SET LOCAL by runSql and set on the console role by db:init. */
    workMemKb: number;
    /** temp_file_limit of the console role (kB), set by db:init (a superuser-only setting). */
    tempFileLimitKb: number;
  };
  /** `npm run db:init`: who creates the roles, and the owner role it makes (see db/database-roles.ts). */
  roles: {
    /** Superuser (or CREATEROLE + CREATEDB) credentials for db:init; unset: the gateway's own. */
    adminUser?: string;
    adminPassword?: string;
    ownerUser: string;
    ownerPassword?: string;
  };
  /** Security headers on every HTTP response (on by default). */
  securityHeaders: boolean;
  /** Browser origins (scheme://host[:port]) whose pages may call /graphql cross-origin (CORS); none by default. */
  corsAllowedOrigins: string[];
}

// Public by design: only used when SECRETS_KEYS is unset outside production, so development works
// out of the box; the gateway logs a warning while it is in use.
const DEVELOPMENT_KEY_ID = 'dev-insecure';
const DEVELOPMENT_KEY = Buffer.alloc(32, 7);

/** SECRETS_KEYS: `id:base64key[,id:base64key...]`, each key 32 bytes (`openssl rand -base64 32`). */
function parseKeys(raw: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const part of raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const colon = part.indexOf(':');
    if (colon < 1)
      throw new ConfigError('SECRETS_KEYS', 'expected id:base64key pairs separated by commas, e.g. k2026:$(openssl rand -base64 32)');
    const id = part.slice(0, colon);
    if (!/^[\w.-]{1,32}$/.test(id)) throw new ConfigError('SECRETS_KEYS', `key id "${id}" must be 1-32 letters, digits, '.', '_' or '-'`);
    const key = Buffer.from(part.slice(colon + 1), 'base64');
    if (key.length !== 32)
      throw new ConfigError(
        'SECRETS_KEYS',
        `key "${id}" must decode to 32 bytes (got ${key.length}); make one with: openssl rand -base64 32`,
      );
    if (keys.has(id)) throw new ConfigError('SECRETS_KEYS', `key id "${id}" is listed twice`);
    keys.set(id, key);
  }
  if (keys.size === 0) throw new ConfigError('SECRETS_KEYS', 'lists no key');
  return keys;
}

function runSqlConfig(r: Reader): SecurityConfig['runSql'] {
  const { isProduction } = r.situation;
  const databaseUrl = r.text('RUN_SQL_DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\/[^/@]+@/.test(databaseUrl)) {
    throw new ConfigError(
      'RUN_SQL_DATABASE_URL',
      'expected postgres://<console role>:<password>@host:5432/db, e.g. the role npm run db:init creates',
    );
  }
  const allowSuperuser = r.bool('RUN_SQL_ALLOW_SUPERUSER');
  if (allowSuperuser && isProduction) {
    throw new ConfigError(
      'RUN_SQL_ALLOW_SUPERUSER',
      'cannot be on in production: runSql must run as the console role (RUN_SQL_DATABASE_URL)',
    );
  }
  return {
    enabled: r.bool('RUN_SQL_ENABLED'),
    databaseUrl,
    statementTimeoutMs: r.int('RUN_SQL_TIMEOUT_MS'),
    rowLimit: r.int('RUN_SQL_ROW_LIMIT'),
    workMemKb: r.int('RUN_SQL_WORK_MEM_KB'),
    tempFileLimitKb: r.int('RUN_SQL_TEMP_FILE_LIMIT_KB'),
    cellBytes: r.int('RUN_SQL_CELL_BYTES'),
    answerBytes: r.int('RUN_SQL_ANSWER_BYTES'),
    allowSuperuser,
  };
}

export function securityConfig(r: Reader): SecurityConfig {
  const { isProduction } = r.situation;
  const anonymousRead = r.bool('AUTH_ANONYMOUS_READ');
  if (anonymousRead && isProduction) {
    throw new ConfigError('AUTH_ANONYMOUS_READ', 'cannot be on in production: every request there needs a token');
  }

  const metricsToken = r.text('METRICS_TOKEN');
  if (metricsToken !== undefined && metricsToken.length < 32)
    throw new ConfigError('METRICS_TOKEN', 'must be at least 32 characters long (it guards /metrics)');

  const jwtSecret = r.text('JWT_SECRET');
  const jwksUrl = r.text('JWT_JWKS_URL');
  if (jwtSecret && jwksUrl) throw new ConfigError('JWT_SECRET', 'set either JWT_SECRET or JWT_JWKS_URL, not both');
  if (jwtSecret && Buffer.byteLength(jwtSecret) < 32)
    throw new ConfigError('JWT_SECRET', 'must be at least 32 bytes long (HS256 needs a 256-bit secret)');
  if (jwksUrl && !/^https?:\/\//.test(jwksUrl)) throw new ConfigError('JWT_JWKS_URL', 'expected an http(s) URL');

  const store = r.oneOf('RATE_LIMIT_STORE');
  const redisUrl = r.text('REDIS_URL');
  if (store === 'redis' && !redisUrl)
    throw new ConfigError('REDIS_URL', 'is required when RATE_LIMIT_STORE=redis, e.g. redis://127.0.0.1:6379');

  const rawKeys = r.text('SECRETS_KEYS');
  if (!rawKeys && isProduction) {
    throw new ConfigError(
      'SECRETS_KEYS',
      'is required in production to encrypt integration credentials: SECRETS_KEYS=k1:$(openssl rand -base64 32)',
    );
  }
  const keys = rawKeys ? parseKeys(rawKeys) : new Map([[DEVELOPMENT_KEY_ID, DEVELOPMENT_KEY]]);
  const activeKeyId = r.text('SECRETS_ACTIVE_KEY_ID') ?? [...keys.keys()][0];
  if (!keys.has(activeKeyId))
    throw new ConfigError('SECRETS_ACTIVE_KEY_ID', `names no key in SECRETS_KEYS (have: ${[...keys.keys()].join(', ')})`);

  return {
    auth: {
      anonymousRead,
      tokenCacheSeconds: r.int('AUTH_TOKEN_CACHE_SECONDS'),
      jwt:
        jwtSecret || jwksUrl
          ? {
              secret: jwtSecret,
              jwksUrl,
              issuer: r.text('JWT_ISSUER'),
              audience: r.text('JWT_AUDIENCE'),
              roleClaim: r.text('JWT_ROLE_CLAIM')!,
              maxLifetimeSeconds: r.int('JWT_MAX_LIFETIME_SECONDS'),
              clockSkewSeconds: r.int('JWT_CLOCK_SKEW_SECONDS'),
            }
          : undefined,
    },
    metrics: { token: metricsToken, open: !metricsToken && !isProduction },
    limits: {
      maxCost: r.int('GRAPHQL_MAX_COST'),
      budgetPerMinute: r.int('RATE_LIMIT_PER_MINUTE'),
      defaultPageSize: r.int('GRAPHQL_DEFAULT_PAGE_SIZE'),
      store,
      redisUrl,
      maxAliases: r.int('GRAPHQL_MAX_ALIASES'),
      maxDirectives: r.int('GRAPHQL_MAX_DIRECTIVES'),
      maxTokens: r.int('GRAPHQL_MAX_TOKENS'),
      maxJsonDepth: r.int('GRAPHQL_MAX_JSON_DEPTH'),
      batching: r.bool('GRAPHQL_BATCHING'),
    },
    input: {
      jsonBytes: r.int('INPUT_MAX_JSON_BYTES'),
      jsonNodes: r.int('INPUT_MAX_JSON_NODES'),
      logBytes: r.int('INPUT_MAX_LOG_BYTES'),
      stringLength: r.int('INPUT_MAX_STRING_LENGTH'),
      cursorLength: r.int('INPUT_MAX_CURSOR_LENGTH'),
      listItems: r.int('INPUT_MAX_LIST_ITEMS'),
    },
    secrets: { keys, activeKeyId, insecureDevelopmentKey: !rawKeys },
    runSql: runSqlConfig(r),
    roles: {
      adminUser: r.text('DB_ADMIN_USER'),
      adminPassword: r.text('DB_ADMIN_PASSWORD'),
      ownerUser: r.text('DB_OWNER_USER')!,
      ownerPassword: r.text('DB_OWNER_PASSWORD'),
    },
    securityHeaders: r.bool('SECURITY_HEADERS'),
    corsAllowedOrigins: originList(r, 'CORS_ALLOWED_ORIGINS'),
  };
}
