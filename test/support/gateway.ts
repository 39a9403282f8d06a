import 'reflect-metadata';
import { loadConfig } from '../../src/config';
import { startGateway, type Gateway } from '../../src/gateway';
import { createLogger, type Logger } from '../../src/logger';
import { createTestDatabase, type TestDatabase } from './database';

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  body: { data?: T; errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[] };
}

export interface TestGateway {
  gateway: Gateway;
  db: TestDatabase;
  baseUrl: string;
  /** POSTs an operation to /graphql as a client would. */
  gql<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

/**
 * Boots the real gateway (migrations, Apollo, Express) on a fresh database and a free port. Tests
 * talk to it over HTTP and check the database through `db.query`.
 */
export async function startTestGateway(env: Record<string, string> = {}, logger?: Logger): Promise<TestGateway> {
  const db = await createTestDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    // The health monitor writes system_metrics rows on a timer; tests that want it turn it on.
    HEALTH_MONITOR_ENABLED: 'false',
    ...env,
  });
  const gateway = await startGateway(config, logger ?? createLogger(config));
  const baseUrl = `http://127.0.0.1:${gateway.port}`;
  return {
    gateway,
    db,
    baseUrl,
    async gql(query, variables, headers = {}) {
      const res = await fetch(`${baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as GraphQLResponse["body"] };
    },
    async close() {
      await gateway.stop();
      await db.drop();
    },
  };
}
