import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import winston from 'winston';
import { systemPrincipal } from '../../src/auth/principal';
import type { Role } from '../../src/auth/roles';
import { TokenService } from '../../src/tokens/token.service';
import { loadConfig } from '../../src/config';
import { startGateway, type Gateway } from '../../src/gateway';
import { createLogger, type Logger } from '../../src/logger';
import { createTestDatabase, type TestDatabase } from './database';

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  body: { data?: T; errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[]; extensions?: Record<string, any> };
}

export interface TestGateway {
  gateway: Gateway;
  db: TestDatabase;
  baseUrl: string;
  /** An admin API token issued at start-up; `gql` sends it unless told otherwise. */
  adminToken: string;
  /**
   * POSTs an operation to /graphql as a client would, with `Authorization: Bearer <adminToken>`
   * unless `headers` has its own `authorization` (an empty one sends none).
   */
  gql<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  /** Issues an API token with this role (through the service, as `npm run token:create` does). */
  token(role: Role, options?: { name?: string; expiresAt?: Date }): Promise<{ token: string; id: string }>;
  /** Every log line the gateway wrote, as formatted for output (so redaction is included). */
  logs: string[];
  close(): Promise<void>;
}

/** A fixed 32-byte key for tests, so production-mode gateways (which require one) start. */
export const TEST_SECRETS_KEYS = `test1:${Buffer.alloc(32, 1).toString('base64')}`;

export interface TestGatewayOptions {
  /** Run on this database instead of a fresh one (e.g. two gateways sharing one); not dropped on close. */
  database?: TestDatabase;
  /** Log through this logger (e.g. one that captures lines for assertions). */
  logger?: Logger;
}

/**
 * Boots the real gateway (migrations, Apollo, Express) on a fresh database and a free port. Tests
 * talk to it over HTTP and check the database through `db.query`.
 */
export async function startTestGateway(env: Record<string, string> = {}, options: TestGatewayOptions = {}): Promise<TestGateway> {
  const db = options.database ?? (await createTestDatabase());
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    SECRETS_KEYS: TEST_SECRETS_KEYS,
    // Test files send many requests with one token within a minute; budget tests set their own.
    RATE_LIMIT_PER_MINUTE: '1000000000',
    // The health monitor writes system_metrics rows on a timer; tests that want it turn it on.
    HEALTH_MONITOR_ENABLED: 'false',
    ...env,
  });
  const logger = options.logger ?? createLogger(config);
  const logs: string[] = [];
  logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk, _encoding, done) {
          logs.push(String(chunk));
          done();
        },
      }),
    }),
  );
  // Only the captured copy is kept unless TEST_LOG_LEVEL asks to see the output.
  if (!process.env.TEST_LOG_LEVEL && !options.logger)
    logger.transports.filter((t) => t instanceof winston.transports.Console).forEach((t) => (t.silent = true));
  const gateway = await startGateway(config, logger);
  const baseUrl = `http://127.0.0.1:${gateway.port}`;
  const tokens = new TokenService(gateway.dataSource);
  const scope = { requestId: `test-${randomBytes(4).toString('hex')}`, logger, principal: systemPrincipal('test-support') };
  const issue: TestGateway['token'] = async (role, opts = {}) => {
    const { token, apiToken } = await tokens.issue(
      scope,
      { name: opts.name ?? `test-${role}`, role, expiresAt: opts.expiresAt },
      'token:create',
    );
    return { token, id: apiToken.id };
  };
  const adminToken = (await issue('admin' as Role, { name: 'test-admin' })).token;
  return {
    gateway,
    db,
    baseUrl,
    adminToken,
    logs,
    token: issue,
    async gql(query, variables, headers = {}) {
      const given = Object.keys(headers).find((k) => k.toLowerCase() === 'authorization');
      const auth: Record<string, string> = given === undefined ? { authorization: `Bearer ${adminToken}` } : {};
      const sent = Object.fromEntries(
        Object.entries({ ...auth, ...headers }).filter(([k, v]) => !(k.toLowerCase() === 'authorization' && v === '')),
      );
      const res = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...sent },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse['body'] };
    },
    async close() {
      await gateway.stop();
      if (!options.database) await db.drop();
    },
  };
}
