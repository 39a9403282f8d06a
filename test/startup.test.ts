import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SECRETS_KEYS } from './support/gateway';
import { freePort } from './support/pg-cluster';

/*
 * Start-up waits for the database (DB_CONNECT_TIMEOUT_SECONDS): a gateway process started before
 * its PostgreSQL comes up (5 s late) starts; with nothing coming, it gives up with a clear message.
 * The database is an embedded PostgreSQL of this test's own, on a free port.
 */
const ROOT = join(__dirname, '..');
const cleanEnv = () =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|DB_|TEST_|PORT$|NODE_ENV$)/.test(k)));

function run(
  script: string,
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', script, ...args], { cwd: ROOT, env: { ...cleanEnv(), ...env } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return { child, output: () => out, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
}

async function waitFor(output: () => string, pattern: RegExp, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!pattern.test(output())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}; output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const gatewayEnv = (pgPort: number, port: number, extra: Record<string, string> = {}) => ({
  NODE_ENV: 'production',
  SECRETS_KEYS: TEST_SECRETS_KEYS,
  DATABASE_URL: `postgres://postgres:postgres@127.0.0.1:${pgPort}/postgres`,
  DB_RUN_MIGRATIONS: 'true',
  HOST: '127.0.0.1',
  PORT: String(port),
  HEALTH_MONITOR_ENABLED: 'false',
  ...extra,
});

it('starts when the database comes up 5 s after it, logging each attempt', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-late-'));
  chmodSync(dir, 0o755);
  const pgPort = await freePort();
  const port = await freePort();
  const gateway = run('src/main.ts', [], gatewayEnv(pgPort, port, { DB_CONNECT_TIMEOUT_SECONDS: '60' }));
  let pg: ReturnType<typeof run> | undefined;
  try {
    await waitFor(gateway.output, /database not reachable \(attempt 2:/, 30_000);
    await new Promise((r) => setTimeout(r, 5_000)); // the database is late (not a timing assertion)
    expect(gateway.child.exitCode).toBeNull();
    pg = run('test/support/embedded-pg-process.ts', [join(dir, 'data'), String(pgPort), 'postgres'], {});
    await waitFor(gateway.output, /gateway listening/, 60_000);
    expect(gateway.output()).toMatch(/database reachable after \d+ attempts/);
    const health = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(health.status).toBe(200);
    gateway.child.kill('SIGTERM');
    expect(await gateway.exited).toBe(0);
  } finally {
    if (gateway.child.exitCode === null) gateway.child.kill('SIGKILL');
    if (pg) {
      pg.child.kill('SIGTERM');
      await pg.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

it('gives up after DB_CONNECT_TIMEOUT_SECONDS with a message that says what to check', async () => {
  const pgPort = await freePort(); // nothing listens there
  const gateway = run('src/main.ts', [], gatewayEnv(pgPort, await freePort(), { DB_CONNECT_TIMEOUT_SECONDS: '2' }));
  expect(await gateway.exited).toBe(1);
  expect(gateway.output()).toMatch(/database not reachable \(attempt 1: connect ECONNREFUSED/);
  expect(gateway.output()).toMatch(
    /Gateway failed to start: the database did not answer within DB_CONNECT_TIMEOUT_SECONDS=2 \(\d+ attempts, last: .*\); check that it runs and that DATABASE_URL \/ DB_HOST \/ DB_PORT point at it/,
  );
  // With the stack, so that the failing step can be found.
  expect(gateway.output()).toMatch(/"stack":"[^"]*\\n\s+at [^"]*src\/db\/database\.ts/);
}, 60_000);
