import type { Variable } from './variable';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './page-size';

/**
 * Every environment variable the gateway reads, once: its kind, default, bounds, meaning and
 * section. src/config/reader.ts refuses to read a name that is not here, and `npm run docs:config`
 * writes docs/configuration.md and .env.example from this table (test/config-docs.test.ts keeps
 * them current). Rules that involve several variables (DB_POOL_MIN <= DB_POOL_MAX, ...) live in the
 * section parsers beside this file.
 */
export const VARIABLES = {
  // ---- Server
  NODE_ENV: {
    section: 'Server', kind: 'enum', values: ['development', 'production', 'test'], default: 'development',
    description: 'production logs JSON, turns introspection, the IDE and the X-SQL-Statements header off, and requires SECRETS_KEYS',
  },
  HOST: { section: 'Server', kind: 'text', format: 'address', default: '0.0.0.0', description: 'address the HTTP server binds to' },
  PORT: { section: 'Server', kind: 'integer', min: 0, max: 65535, default: 4000, description: 'port of the HTTP server (GraphQL at /graphql, probes at /health); 0 picks a free one' },
  LOG_LEVEL: {
    section: 'Server', kind: 'enum', values: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'], default: 'info',
    description: 'winston log level',
  },

  // ---- Database
  DATABASE_URL: {
    section: 'Database', kind: 'text', format: 'postgres:// or postgresql:// URL', secret: true, example: 'postgres://user:password@host:5432/taskmaster',
    description: 'the database; wins over the DB_* variables. With neither it nor DB_HOST set, the gateway starts its own embedded PostgreSQL',
  },
  DB_HOST: { section: 'Database', kind: 'text', format: 'host name or address', example: '127.0.0.1', description: 'PostgreSQL host, when no DATABASE_URL is given (unset with DATABASE_URL unset: the embedded PostgreSQL)' },
  DB_PORT: { section: 'Database', kind: 'integer', min: 1, max: 65535, default: 5432, description: 'PostgreSQL port (with DB_HOST)' },
  DB_NAME: {
    section: 'Database', kind: 'text', format: 'name', example: 'taskmaster',
    default: { doc: 'postgres (taskmaster for the embedded server)', value: (s) => (s.embedded ? 'taskmaster' : 'postgres') },
    description: 'database name (Docker Compose: taskmaster)',
  },
  DB_USER: { section: 'Database', kind: 'text', format: 'name', default: 'postgres', example: 'taskmaster', description: 'database user (Docker Compose: taskmaster)' },
  DB_PASSWORD: {
    section: 'Database', kind: 'text', format: 'text', secret: true, example: 'change-me',
    default: { doc: 'unset (postgres for the embedded server)', value: (s) => (s.embedded ? 'postgres' : undefined) },
    description: 'database password; Docker Compose requires it',
  },
  DB_SSL_MODE: {
    section: 'Database', kind: 'enum', values: ['disable', 'require', 'verify-ca', 'verify-full'], default: 'disable',
    description: 'TLS to PostgreSQL: require encrypts without checking the certificate; verify-ca and verify-full check it against DB_SSL_CA_FILE',
  },
  DB_SSL_CA_FILE: { section: 'Database', kind: 'text', format: 'file path', example: '/etc/ssl/certs/db-ca.pem', description: "the server's CA certificate; required for verify-ca and verify-full" },
  DB_POOL_MIN: { section: 'Database', kind: 'integer', min: 0, max: 1000, default: 2, description: 'smallest pool size; at most DB_POOL_MAX' },
  DB_POOL_MAX: { section: 'Database', kind: 'integer', min: 1, max: 1000, default: 10, description: 'largest pool size' },
  DB_POOL_IDLE_TIMEOUT: { section: 'Database', kind: 'integer', min: 0, max: 3_600_000, default: 10_000, description: 'milliseconds before an idle pooled connection is closed' },
  DB_POOL_CONNECTION_TIMEOUT: {
    section: 'Database', kind: 'integer', min: 1, max: 600_000, default: 5_000,
    description: "milliseconds a query waits for a free connection before failing with SERVICE_UNAVAILABLE (pg's own default waits forever)",
  },
  DB_STATEMENT_TIMEOUT: { section: 'Database', kind: 'integer', min: 0, max: 3_600_000, default: 30_000, description: "PostgreSQL statement_timeout in milliseconds for the gateway's connections (0 = none)" },
  DB_POOL_MAX_LIFETIME: {
    section: 'Database', kind: 'integer', min: 0, max: 604_800, default: 1_800,
    description: "seconds after which a pooled connection is closed and replaced (0 = never; pg's maxLifetimeSeconds): spreads load after a failover",
  },
  DB_POOL_MAX_USES: { section: 'Database', kind: 'integer', min: 0, max: 1_000_000_000, default: 0, description: "statements after which a pooled connection is replaced (0 = unlimited; pg's maxUses)" },
  DB_SLOW_QUERY_MS: {
    section: 'Database', kind: 'integer', min: 1, max: 3_600_000, default: 500,
    description: 'statements slower than this many milliseconds are logged as `slow query`, with the request id and never parameter values',
  },
  DB_RUN_MIGRATIONS: {
    section: 'Database', kind: 'boolean',
    default: { doc: 'true (false in production with a configured database)', value: (s) => s.embedded || !s.isProduction },
    description: 'apply pending migrations at start-up',
  },
  DB_CONNECT_TIMEOUT_SECONDS: {
    section: 'Database', kind: 'integer', min: 0, max: 86_400, default: 60,
    description: 'seconds start-up keeps retrying an unreachable database (with backoff, each attempt logged) before it exits 1',
  },
  EMBEDDED_PG_PORT: { section: 'Database', kind: 'integer', min: 1, max: 65535, default: 54329, description: 'port of the embedded PostgreSQL (used when neither DATABASE_URL nor DB_HOST is set)' },
  EMBEDDED_PG_DATA_DIR: { section: 'Database', kind: 'text', format: 'folder path', default: '.data/postgres', description: 'data folder of the embedded PostgreSQL' },

  // ---- Database roles
  DB_ADMIN_USER: {
    section: 'Database roles (npm run db:init)', kind: 'text', format: 'name', example: 'postgres',
    default: { doc: "unset (the gateway's own DB_USER)" },
    description: 'npm run db:init connects as this administrator (a superuser, or CREATEROLE and CREATEDB) to create the database and roles',
  },
  DB_ADMIN_PASSWORD: { section: 'Database roles (npm run db:init)', kind: 'text', format: 'text', secret: true, example: 'change-me-too', description: 'password of DB_ADMIN_USER; only db:init reads it' },
  DB_OWNER_USER: { section: 'Database roles (npm run db:init)', kind: 'text', format: 'name', default: 'taskmaster_owner', description: 'the owner role db:init creates; migrations run as it' },
  DB_OWNER_PASSWORD: {
    section: 'Database roles (npm run db:init)', kind: 'text', format: 'text', secret: true, example: 'change-me-three',
    default: { doc: 'unset (the role cannot log in)' },
    description: 'password of the owner role, to run db:migrate as it',
  },

  // ---- Shutdown
  SHUTDOWN_DELAY_MS: {
    section: 'Shutdown', kind: 'integer', min: 0, max: 600_000,
    default: { doc: '5000 in production, else 0', value: (s) => (s.isProduction ? 5_000 : 0) },
    description: 'on SIGTERM/SIGINT, milliseconds the gateway keeps serving after /ready turns 503, so a load balancer stops sending; less than SHUTDOWN_TIMEOUT_MS',
  },
  SHUTDOWN_TIMEOUT_MS: {
    section: 'Shutdown', kind: 'integer', min: 1_000, max: 3_600_000, default: 25_000,
    description: 'milliseconds from the signal until running statements are cancelled and the process exits 1',
  },

  // ---- GraphQL
  GRAPHQL_DEPTH_LIMIT: { section: 'GraphQL', kind: 'integer', min: 1, max: 100, default: 10, description: 'deepest query accepted' },
  GRAPHQL_BODY_LIMIT_BYTES: { section: 'GraphQL', kind: 'integer', min: 1_024, max: 104_857_600, default: 1_048_576, description: 'largest accepted request body in bytes (larger: 413)' },
  GRAPHQL_INTROSPECTION: {
    section: 'GraphQL', kind: 'boolean', default: { doc: 'true (false in production)', value: (s) => !s.isProduction },
    description: "allow introspection (the IDE's docs and completion need it)",
  },
  GRAPHQL_SQL_COUNT_HEADER: {
    section: 'GraphQL', kind: 'boolean', default: { doc: 'true (false in production)', value: (s) => !s.isProduction },
    description: 'answer each GraphQL request with an X-SQL-Statements header (the statements it ran)',
  },
  GRAPHQL_IDE: {
    section: 'GraphQL', kind: 'boolean', default: { doc: 'true (false in production)', value: (s) => !s.isProduction },
    description: 'serve the GraphiQL IDE at /graphql (browsers), /graphiql and /playground; in production also set GRAPHQL_INTROSPECTION=true',
  },

  // ---- Writes
  IDEMPOTENCY_TTL_HOURS: {
    section: 'Writes', kind: 'integer', min: 1, max: 8760, default: 24,
    description: 'hours an idempotency key and its stored answer are kept; after that the key is free again',
  },

  // ---- Authentication
  AUTH_ANONYMOUS_READ: {
    section: 'Authentication', kind: 'boolean', default: false,
    description: 'development only: requests without a token may read (never write); refused in production',
  },
  AUTH_TOKEN_CACHE_SECONDS: {
    section: 'Authentication', kind: 'integer', min: 0, max: 300, default: 10,
    description: 'seconds a verified API token is remembered (0: looked up on every request); expiry is checked on every request, a revocation through this gateway applies at once, one through another instance or SQL within this time',
  },
  JWT_SECRET: {
    section: 'Authentication', kind: 'text', format: 'text, 32 bytes or more', secret: true, example: 'change-me-to-at-least-32-random-bytes',
    description: 'accept JWTs signed with this HMAC secret (HS256/384/512); not with JWT_JWKS_URL',
  },
  JWT_JWKS_URL: {
    section: 'Authentication', kind: 'text', format: 'http(s) URL', example: 'https://idp.example.com/.well-known/jwks.json',
    description: 'accept JWTs verified against this key set (RS/PS/ES/EdDSA; alg none never); not with JWT_SECRET',
  },
  JWT_ISSUER: { section: 'Authentication', kind: 'text', format: 'text', example: 'https://idp.example.com/', default: { doc: 'unset (not checked)' }, description: 'required `iss` of accepted JWTs' },
  JWT_AUDIENCE: { section: 'Authentication', kind: 'text', format: 'text', example: 'taskmaster-gateway', default: { doc: 'unset (not checked)' }, description: 'required `aud` of accepted JWTs' },
  JWT_ROLE_CLAIM: { section: 'Authentication', kind: 'text', format: 'claim name', default: 'role', description: 'the JWT claim holding viewer, operator or admin (dots reach nested claims: app.role)' },

  // ---- Limits
  GRAPHQL_MAX_COST: { section: 'Limits', kind: 'integer', min: 1, max: 10_000_000, default: 10_000, description: 'most points one operation may cost (docs/security.md, "Query cost and rate limits")' },
  RATE_LIMIT_PER_MINUTE: { section: 'Limits', kind: 'integer', min: 1, max: 1_000_000_000, default: 100_000, description: 'points each token may spend per minute, across all gateway instances' },
  GRAPHQL_DEFAULT_PAGE_SIZE: {
    section: 'Limits', kind: 'integer', min: 1, max: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE,
    description: 'rows a list or connection returns when asked without first/last; the cost limit assumes it too',
  },
  RATE_LIMIT_STORE: {
    section: 'Limits', kind: 'enum', values: ['postgres', 'redis'],
    default: { doc: 'postgres (redis when REDIS_URL is set)', value: (s) => (s.isSet('REDIS_URL') ? 'redis' : 'postgres') },
    description: 'where the per-minute counters live',
  },
  REDIS_URL: {
    section: 'Limits', kind: 'text', format: 'redis:// URL', secret: true, example: 'redis://127.0.0.1:6379',
    description: 'Redis for the rate-limit counters; required when RATE_LIMIT_STORE=redis',
  },
  GRAPHQL_MAX_ALIASES: { section: 'Limits', kind: 'integer', min: 0, max: 10_000, default: 30, description: 'most aliases in one document' },
  GRAPHQL_MAX_DIRECTIVES: { section: 'Limits', kind: 'integer', min: 0, max: 10_000, default: 50, description: 'most directives in one document' },
  GRAPHQL_MAX_TOKENS: { section: 'Limits', kind: 'integer', min: 100, max: 1_000_000, default: 5_000, description: "most lexical tokens in one document (Apollo's parseOptions.maxTokens)" },
  GRAPHQL_MAX_JSON_DEPTH: { section: 'Limits', kind: 'integer', min: 2, max: 1_000, default: 32, description: 'deepest nesting of a JSON value in variables or in the document' },
  GRAPHQL_BATCHING: { section: 'Limits', kind: 'boolean', default: false, description: 'accept batched (array) requests' },
  INPUT_MAX_JSON_BYTES: { section: 'Limits', kind: 'integer', min: 1_024, max: 16_777_216, default: 65_536, description: 'bytes of one JSON argument (requirements, metadata, agentConfig, ...)' },
  INPUT_MAX_JSON_NODES: { section: 'Limits', kind: 'integer', min: 10, max: 1_000_000, default: 10_000, description: 'values (objects, arrays, scalars) in one JSON argument' },
  INPUT_MAX_LOG_BYTES: { section: 'Limits', kind: 'integer', min: 1_024, max: 16_777_216, default: 65_536, description: 'bytes of log entries one appendExecutionLog call adds' },
  INPUT_MAX_STRING_LENGTH: { section: 'Limits', kind: 'integer', min: 1_000, max: 10_000_000, default: 100_000, description: 'characters of any string argument (fields with a smaller rule keep it)' },
  INPUT_MAX_CURSOR_LENGTH: { section: 'Limits', kind: 'integer', min: 64, max: 65_536, default: 1_024, description: 'characters of a paging cursor (after, before)' },
  SECURITY_HEADERS: {
    section: 'Limits', kind: 'boolean', default: true,
    description: 'send nosniff, X-Frame-Options: DENY, Referrer-Policy, CSP frame-ancestors (and HSTS in production) on every response',
  },

  // ---- Secrets
  SECRETS_KEYS: {
    section: 'Secrets', kind: 'text', format: 'id:base64key[,id:base64key...]', secret: true, example: 'k1:REPLACE_WITH_openssl_rand_base64_32',
    default: { doc: 'unset: a public development key outside production; required in production' },
    description: '32-byte AES-256-GCM keys for integration credentials (make one with openssl rand -base64 32); all decrypt',
  },
  SECRETS_ACTIVE_KEY_ID: {
    section: 'Secrets', kind: 'text', format: 'key id', example: 'k1', default: { doc: 'the first of SECRETS_KEYS' },
    description: 'the SECRETS_KEYS key that encrypts (see npm run secrets:rotate)',
  },

  // ---- runSql
  RUN_SQL_ENABLED: { section: 'runSql console', kind: 'boolean', default: false, description: 'enable the admin-only runSql query' },
  RUN_SQL_DATABASE_URL: {
    section: 'runSql console', kind: 'text', format: 'postgres://role:password@host:port/db', secret: true,
    example: 'postgres://taskmaster_console:change-me@127.0.0.1:5432/taskmaster',
    default: { doc: "unset: the gateway's own settings, refused when that user is a superuser" },
    description: 'runSql\'s own connection, as the console role npm run db:init creates',
  },
  RUN_SQL_TIMEOUT_MS: { section: 'runSql console', kind: 'integer', min: 1, max: 600_000, default: 5_000, description: 'statement timeout of runSql in milliseconds' },
  RUN_SQL_ROW_LIMIT: { section: 'runSql console', kind: 'integer', min: 1, max: 100_000, default: 1_000, description: 'most rows runSql returns' },
  RUN_SQL_CELL_BYTES: { section: 'runSql console', kind: 'integer', min: 16, max: 10_485_760, default: 4_096, description: 'a longer cell is cut to this many bytes (in SQL: the whole value never reaches the gateway)' },
  RUN_SQL_ANSWER_BYTES: { section: 'runSql console', kind: 'integer', min: 1_024, max: 104_857_600, default: 1_048_576, description: 'runSql stops adding rows once its answer holds this many bytes of JSON' },
  RUN_SQL_ALLOW_SUPERUSER: { section: 'runSql console', kind: 'boolean', default: false, description: 'outside production only: let runSql run as a superuser (our statement checks remain)' },

  // ---- Health
  HEALTH_MONITOR_ENABLED: { section: 'Health', kind: 'boolean', default: true, description: 'run the background health monitor (samples to system_metrics, alerts in the log)' },
  HEALTH_CHECK_INTERVAL_MS: { section: 'Health', kind: 'integer', min: 100, max: 86_400_000, default: 30_000, description: 'milliseconds between database health samples' },
  HEALTH_PERFORMANCE_INTERVAL_MS: { section: 'Health', kind: 'integer', min: 100, max: 86_400_000, default: 60_000, description: 'milliseconds between gateway performance samples (requests/s, p95 latency, error rate)' },
  HEALTH_CHECK_TIMEOUT_MS: {
    section: 'Health', kind: 'integer', min: 50, max: 60_000, default: 800,
    description: 'deadline in milliseconds of one health check (poolHealth, /ready, the monitor); shorter than HEALTH_CHECK_INTERVAL_MS',
  },
  HEALTH_RESPONSE_TIME_THRESHOLD_MS: { section: 'Health', kind: 'integer', min: 1, max: 600_000, default: 1_000, description: 'a SELECT 1 slower than this many milliseconds degrades health and raises an alert' },
  HEALTH_POOL_UTILIZATION_THRESHOLD: { section: 'Health', kind: 'integer', min: 1, max: 100, default: 80, description: 'percent of DB_POOL_MAX in use above which health degrades and an alert is raised' },
  HEALTH_ERROR_RATE_THRESHOLD: {
    section: 'Health', kind: 'integer', min: 0, max: 100, default: 5,
    description: "percent of requests failing on the server's side (INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE) above which an alert is raised",
  },

  // ---- Subscriptions
  SUBSCRIPTION_REPLAY_HOURS: {
    section: 'Subscriptions', kind: 'integer', min: 1, max: 24 * 90, default: 24,
    description: 'hours of changes kept for `after: cursor` to replay; older change-log rows are deleted and an older cursor is refused',
  },
  SUBSCRIPTION_MAX_SOCKETS_PER_TOKEN: { section: 'Subscriptions', kind: 'integer', min: 1, max: 100_000, default: 20, description: 'WebSockets one token (or JWT subject) may hold open on one instance; more are closed with 4029' },
  SUBSCRIPTION_MAX_PER_SOCKET: { section: 'Subscriptions', kind: 'integer', min: 1, max: 10_000, default: 50, description: 'subscriptions at once on one WebSocket; more are refused with SUBSCRIPTION_LIMIT_EXCEEDED' },
  SUBSCRIPTION_MAX_BUFFERED_BYTES: {
    section: 'Subscriptions', kind: 'integer', min: 1_024, max: 1_073_741_824, default: 1_048_576,
    description: 'a socket whose send buffer passes this many bytes is closed with 4008 (slow consumer)',
  },
  SUBSCRIPTION_MAX_QUEUED_EVENTS: {
    section: 'Subscriptions', kind: 'integer', min: 10, max: 1_000_000, default: 1_000,
    description: 'events queued for one subscription; past it, it catches up from the change log (still behind after 30 s: closed with 4008)',
  },
  SUBSCRIPTION_KEEPALIVE_MS: {
    section: 'Subscriptions', kind: 'integer', min: 0, max: 3_600_000, default: 12_000,
    description: 'milliseconds between keep-alive pings (0: none); a socket that does not answer within as long is dropped',
  },
  SUBSCRIPTION_INIT_TIMEOUT_MS: { section: 'Subscriptions', kind: 'integer', min: 100, max: 600_000, default: 5_000, description: 'milliseconds a socket may stay open without sending connection_init' },
  SUBSCRIPTION_POLL_MS: { section: 'Subscriptions', kind: 'integer', min: 10, max: 10_000, default: 50, description: 'milliseconds between reads of the change log while this instance has a live subscription (no reads while it has none)' },
  SUBSCRIPTION_ALLOWED_ORIGINS: {
    section: 'Subscriptions', kind: 'text', format: 'comma-separated scheme://host[:port]', example: 'https://dashboard.example.com',
    description: "browser origins allowed besides the gateway's own",
  },

  // ---- Cloudflare tunnel
  CLOUDFLARE_ENABLED: { section: 'Cloudflare tunnel', kind: 'boolean', default: false, description: 'write a cloudflared config for a locally managed tunnel at start-up' },
  CLOUDFLARE_TUNNEL_ID: {
    section: 'Cloudflare tunnel', kind: 'text', format: 'UUID', example: '6ff42ae2-765d-4adf-8112-31c55c1551ef',
    description: "the tunnel's UUID (`cloudflared tunnel create <name>` prints it); required when enabled",
  },
  CLOUDFLARE_DOMAIN: { section: 'Cloudflare tunnel', kind: 'text', format: 'DNS name', example: 'example.com', description: 'the Cloudflare zone the hostnames live in, bare (no scheme, port or path); required when enabled' },
  CLOUDFLARE_SUBDOMAIN: { section: 'Cloudflare tunnel', kind: 'text', format: 'one DNS label', default: 'db-api', description: 'GraphQL is served at <subdomain>.<domain>/graphql' },
  CLOUDFLARE_CREDENTIALS_FILE: {
    section: 'Cloudflare tunnel', kind: 'text', format: 'file path', example: '/etc/cloudflared/credentials.json',
    default: { doc: '~/.cloudflared/<CLOUDFLARE_TUNNEL_ID>.json' },
    description: 'the tunnel credentials JSON, checked at start-up; its secret is never logged (compose: /etc/cloudflared/credentials.json)',
  },
  CLOUDFLARE_CONFIG_FILE: {
    section: 'Cloudflare tunnel', kind: 'text', format: 'file path', default: '.data/cloudflared/config.yml',
    description: "where the generated config is written, mode 0600; a file without the gateway's banner is never overwritten (compose: /var/lib/taskmaster/tunnel/config.yml)",
  },
  CLOUDFLARE_ORIGIN_HOST: {
    section: 'Cloudflare tunnel', kind: 'text', format: 'host name or address', example: '127.0.0.1',
    default: { doc: 'HOST, or 127.0.0.1 for a wildcard bind' },
    description: 'the host cloudflared dials to reach the gateway (compose: gateway)',
  },
  CLOUDFLARE_CONNECT_TIMEOUT: { section: 'Cloudflare tunnel', kind: 'text', format: 'Go duration', default: '30s', description: 'origin connect timeout' },
  CLOUDFLARE_TLS_TIMEOUT: { section: 'Cloudflare tunnel', kind: 'text', format: 'Go duration', default: '10s', description: 'origin TLS handshake timeout' },
  CLOUDFLARE_KEEPALIVE_TIMEOUT: { section: 'Cloudflare tunnel', kind: 'text', format: 'Go duration', default: '1m30s', description: 'idle keep-alive timeout of origin connections' },
  CLOUDFLARE_EXPOSE_DB: { section: 'Cloudflare tunnel', kind: 'boolean', default: false, description: 'also route <CLOUDFLARE_DB_SUBDOMAIN>.<domain> to PostgreSQL as a TCP service' },
  CLOUDFLARE_DB_SUBDOMAIN: { section: 'Cloudflare tunnel', kind: 'text', format: 'one DNS label', default: 'db', description: 'the database hostname is <label>.<domain>' },
  CLOUDFLARE_DB_CONNECT_TIMEOUT: { section: 'Cloudflare tunnel', kind: 'text', format: 'Go duration', default: '10s', description: "the database rule's connect timeout" },
  CLOUDFLARE_DB_TCP_KEEPALIVE: { section: 'Cloudflare tunnel', kind: 'text', format: 'Go duration', default: '30s', description: "the database rule's TCP keep-alive" },
  CLOUDFLARE_METRICS: { section: 'Cloudflare tunnel', kind: 'text', format: 'host:port, or off', default: '127.0.0.1:20241', description: "cloudflared's Prometheus endpoint" },
  CLOUDFLARE_EXTRA_INGRESS: {
    section: 'Cloudflare tunnel', kind: 'text', format: 'JSON array of ingress rules', default: '[]',
    example: '[{"hostname":"status.example.com","path":"^/health$","service":"http://127.0.0.1:4000"}]',
    description: 'extra ingress rules, placed before the final http_status:404 and validated like the rest',
  },
} as const satisfies Record<string, Variable>;

export type VariableName = keyof typeof VARIABLES;
