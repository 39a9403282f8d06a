import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemPrincipal } from '../src/auth/principal';
import type { Role } from '../src/auth/roles';
import { TokenService } from '../src/auth/token.service';
import { loadConfig, type Config } from '../src/config';
import { startGateway, type Gateway } from '../src/gateway';
import { PoolHealthService } from '../src/health/pool-health.service';
import { captureLogs } from './support/log-capture';

/*
 * The gateway's database goes away and comes back. This file runs its own embedded PostgreSQL so
 * that it can stop it; the gateway is never restarted.
 */

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const logs = captureLogs('info');
let dir: string;
let unverified: string;
let port: number;
let pg: EmbeddedProcess | undefined;
let gateway: Gateway;
let baseUrl: string;
let config: Config;
/** An operator's API token; every GraphQL request is authenticated (issue 6). */
let token: string;

interface EmbeddedProcess {
  stop(): Promise<void>;
}

/** An embedded PostgreSQL in a child process (see support/embedded-pg-process.ts); data kept across restarts. */
function startPg(): Promise<EmbeddedProcess> {
  const child: ChildProcess = spawn(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'support/embedded-pg-process.ts'), join(dir, 'data'), String(port), 'outage'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      if (String(chunk).includes('ready')) resolve({ stop: () => (child.kill('SIGTERM'), exited) });
    });
    child.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited (${code}): ${stderr}`)));
  });
}

async function gql(query: string, bearer = token) {
  const res = await fetch(`${baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ query }),
  });
  return { status: res.status, ...((await res.json()) as { data?: any; errors?: { message: string; extensions: { code: string } }[] }) };
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}

async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not recovered within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const exits: unknown[] = [];
const onExit = (code: unknown) => exits.push(code);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tm-outage-'));
  chmodSync(dir, 0o755); // as root, PostgreSQL runs as an unprivileged user that must reach it
  port = await freePort();
  pg = await startPg();
  config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${port}/outage`,
    HOST: '127.0.0.1',
    PORT: '0',
    LOG_LEVEL: 'info',
    DB_POOL_MAX: '4',
    DB_POOL_CONNECTION_TIMEOUT: '1000',
    HEALTH_CHECK_INTERVAL_MS: '300',
    HEALTH_PERFORMANCE_INTERVAL_MS: '500',
    HEALTH_CHECK_TIMEOUT_MS: '250',
  });
  gateway = await startGateway(config, logs.logger);
  baseUrl = `http://127.0.0.1:${gateway.port}`;
  const tokens = new TokenService(gateway.dataSource);
  const scope = { requestId: 'outage-test', logger: logs.logger, principal: systemPrincipal('test-support') };
  token = (await tokens.issue(scope, { name: 'outage-operator', role: 'admin' as Role }, 'token:create')).token;
  unverified = (await tokens.issue(scope, { name: 'outage-newcomer', role: 'admin' as Role }, 'token:create')).token;
  process.on('exit', onExit);
}, 60_000);

afterAll(async () => {
  process.off('exit', onExit);
  await gateway?.stop();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

it('reports the outage within 1 s, keeps running, and recovers when the database is back', async () => {
  // Healthy, with idle pool connections that will break when the server goes away.
  await Promise.all([1, 2, 3].map(() => gql('{ task(id: "00000000-0000-0000-0000-000000000000") { id } }')));
  expect((await fetch(`${baseUrl}/ready`)).status).toBe(200);
  expect((await gql('{ poolHealth { status } }')).data.poolHealth.status).toBe('HEALTHY');

  await pg!.stop(); // fast shutdown: PostgreSQL terminates every connection
  pg = undefined;

  const ready = await timed(() => fetch(`${baseUrl}/ready`));
  expect(ready.value.status).toBe(503);
  expect(ready.ms).toBeLessThan(1_000);
  const body = (await ready.value.json()) as any;
  expect(body).toMatchObject({ status: 'not ready', ready: false, failing: ['database', 'migrations'], checks: { database: { ok: false } } });
  expect(body.checks.database.error).toEqual(expect.any(String));
  expect(JSON.stringify(body)).not.toContain('postgres:postgres');

  // The operator's token was verified moments ago and is remembered (AUTH_TOKEN_CACHE_SECONDS), so
  // poolHealth answers over GraphQL: UNHEALTHY within the deadline, without the connection string.
  const health = await timed(() => gql('{ poolHealth { status reasons database { connected responseTimeMs serverVersion } } }'));
  expect(health.ms).toBeLessThan(1_000);
  expect(health.value.status).toBe(200);
  expect(health.value.data.poolHealth).toMatchObject({ status: 'UNHEALTHY', database: { connected: false, responseTimeMs: null, serverVersion: null } });
  expect(health.value.data.poolHealth.reasons[0]).toMatch(/^database unreachable: /);
  expect(JSON.stringify(health.value)).not.toContain('postgres:postgres');

  // A token not seen before must be checked, and the tokens are in the database: the gateway fails
  // closed, quickly, with a code a client can act on (503 SERVICE_UNAVAILABLE, "retry later"),
  // rather than serving anyone or hanging. /ready above (no token) is the outage signal.
  const newcomer = await timed(() => gql('{ poolHealth { status } }', unverified));
  expect(newcomer.ms).toBeLessThan(1_000);
  expect(newcomer.value.status).toBe(503);
  expect(newcomer.value.data ?? null).toBeNull();
  expect(newcomer.value.errors?.[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
  expect(newcomer.value.errors?.[0].message).toMatch(/database is unavailable/);
  expect(JSON.stringify(newcomer.value)).not.toContain('postgres:postgres');

  // What poolHealth's resolver reports once a request gets to it (the service behind it, on the same
  // pool and configuration): UNHEALTHY within the deadline, without the connection string.
  const service = new PoolHealthService(gateway.dataSource, config.db, config.health, logs.logger);
  try {
    const report = await timed(() => service.check());
    expect(report.ms).toBeLessThan(1_000);
    const h = report.value;
    expect(h.status).toBe('UNHEALTHY');
    expect(h.database).toMatchObject({ connected: false, responseTimeMs: null, serverVersion: null });
    expect(h.reasons[0]).toMatch(/^database unreachable: /);
    expect(JSON.stringify(h)).not.toContain('postgres:postgres');
  } finally {
    await service.close();
  }

  // The pool's idle connections broke; its 'error' events were handled (logged), not fatal.
  await eventually(async () => logs.entries.some((e) => e.level === 'warn' && /Postgres pool raised an error/.test(e.message)), 5_000);

  // Liveness does not depend on the database.
  expect((await fetch(`${baseUrl}/health`)).status).toBe(200);
  // Queries fail with a code a client can act on, not a crash.
  const failed = await gql('{ task(id: "00000000-0000-0000-0000-000000000000") { id } }');
  expect(failed.errors?.[0].extensions.code).toBe('SERVICE_UNAVAILABLE');

  // Let the monitor sample the outage at least once, then bring the database back.
  await eventually(async () => logs.entries.some((e) => e.level === 'warn' && /health alert: database unreachable/.test(e.message)), 5_000);
  pg = await startPg();

  await eventually(async () => (await fetch(`${baseUrl}/ready`)).status === 200, 10_000);
  await eventually(async () => (await gql('{ poolHealth { status } }')).data.poolHealth.status === 'HEALTHY', 10_000);
  const again = await gql('mutation { createTask(input: { title: "after the outage" }) { id } }');
  expect(again.errors).toBeUndefined();
  await eventually(async () => logs.entries.some((e) => /health recovered: database_unreachable/.test(e.message)), 5_000);
  expect(exits).toEqual([]);
}, 60_000);
