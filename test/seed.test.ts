import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { exampleOperations } from '../src/ide/examples';
import { DEMO_ID_PREFIX } from '../src/seed/demo-ids';
import { describeSeed, seedDemoData } from '../src/seed/seed';
import { startTestGateway, type TestGateway } from './support/gateway';
import { freePort } from './support/pg-cluster';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');

/** Runs `npm run db:seed` as a user would, with exactly the given environment (plus PATH). */
async function npmSeed(env: Record<string, string>, ...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run('npm', ['run', '-s', 'db:seed', ...(args.length ? ['--', ...args] : [])], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', LOG_LEVEL: 'info', ...env },
      timeout: 120_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error: any) {
    return { code: error.code, output: `${error.stdout}${error.stderr}` };
  }
}

async function counts(t: TestGateway): Promise<Record<string, number>> {
  const [row] = await t.db.query(`SELECT
    (SELECT count(*) FROM tasks)::int AS tasks, (SELECT count(*) FROM task_executions)::int AS executions,
    (SELECT count(*) FROM external_integrations)::int AS integrations, (SELECT count(*) FROM system_metrics)::int AS metrics`);
  return row;
}

/** Runs each docs/api.md / IDE example operation and returns the first error, or the data. */
async function runExamples(gql: TestGateway['gql'], now: Date) {
  const answers: Record<string, any> = {};
  for (const op of exampleOperations(now)) {
    const res = await gql(op.query, op.variables);
    expect([op.title, res.body.errors]).toEqual([op.title, undefined]);
    answers[op.title] = res.body.data;
  }
  return answers;
}

describe('demo data (npm run db:seed)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  });
  afterAll(() => t.close());

  it('fills an empty database with every task status, subtasks, executions with logs, integrations and a day of metrics', async () => {
    const now = new Date();
    const result = await seedDemoData(t.gateway.dataSource, { now });
    expect(await counts(t)).toEqual(result.demo);
    expect(result.added).toBe(Object.values(result.demo).reduce((a, b) => a + b));

    const statuses = await t.db.query(
      `SELECT status, count(*)::int AS n, count(parent_task_id)::int AS subtasks FROM tasks GROUP BY status ORDER BY status`,
    );
    expect(statuses.map((s) => s.status)).toEqual(['cancelled', 'completed', 'failed', 'in_progress', 'pending']);
    expect(statuses.every((s) => s.subtasks > 0 && s.n > s.subtasks)).toBe(true);
    const [finished] = await t.db.query(
      `SELECT count(*)::int AS wrong FROM tasks WHERE (status IN ('completed','failed','cancelled')) <> (completed_at IS NOT NULL)`,
    );
    expect(finished.wrong).toBe(0);
    const [logs] = await t.db.query(
      `SELECT count(*)::int AS n, count(DISTINCT status)::int AS statuses FROM task_executions e
       WHERE e.log_count > 0 AND e.log_count = (SELECT count(*) FROM execution_log_entries l WHERE l.execution_id = e.id)`,
    );
    expect(logs.n).toBeGreaterThanOrEqual(10);
    expect(logs.statuses).toBe(5);
    const types = await t.db.query(`SELECT integration_type FROM external_integrations ORDER BY 1`);
    expect(types.map((r) => r.integration_type)).toEqual(['claude', 'codegen', 'custom', 'github', 'linear']);
    const [span] = await t.db.query(
      `SELECT min(timestamp) AS first, max(timestamp) AS last, count(DISTINCT metric_name)::int AS names FROM system_metrics`,
    );
    expect(span.names).toBeGreaterThanOrEqual(3);
    expect(new Date(span.last).getTime() - new Date(span.first).getTime()).toBeGreaterThanOrEqual(23.9 * 3_600_000);
    expect(new Date(span.last).getTime()).toBeLessThanOrEqual(now.getTime());
    // Through the API, credentials stay unreadable: the demo integrations' configuration has no field.
    const integration = await t.gql(`{ integration(id: "${DEMO_ID_PREFIX}0003-4000-8000-000000000001") { name type healthStatus } }`);
    expect(integration.body.data.integration).toEqual({ name: 'GitHub (demo org)', type: 'GITHUB', healthStatus: 'HEALTHY' });
  });

  it('is idempotent: a second run refreshes the same rows and leaves the same counts', async () => {
    const before = await counts(t);
    const ids = await t.db.query(`SELECT id FROM tasks ORDER BY id`);
    const later = new Date(Date.now() + 3_600_000);
    await seedDemoData(t.gateway.dataSource, { now: later });
    expect(await counts(t)).toEqual(before);
    expect(await t.db.query(`SELECT id FROM tasks ORDER BY id`)).toEqual(ids);
    const [{ last }] = await t.db.query(`SELECT max(timestamp) AS last FROM system_metrics`);
    expect(new Date(last).getTime()).toBeGreaterThan(Date.now()); // moved with `now`
  });

  it('makes every example operation of the IDE and docs/api.md return data', async () => {
    const answers = await runExamples(t.gql.bind(t), new Date());
    expect(answers['Task board'].tasks.nodes.length).toBeGreaterThan(0);
    expect(answers['Task board'].tasks.nodes.every((n: any) => n.status === 'PENDING')).toBe(true);
    expect(answers['One task with its runs'].task.executions.nodes.length).toBeGreaterThan(0);
    expect(answers['One task with its runs'].task.subtasks.nodes.length).toBeGreaterThan(0);
    expect(answers['Latency chart'].metricSeries.length).toBeGreaterThan(200);
    expect(answers['Start a task'].updateTaskStatus.status).toBe('IN_PROGRESS');
    const doc = readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8');
    for (const op of exampleOperations(new Date())) expect([op.title, doc.includes(op.query)]).toEqual([op.title, true]);
  });

  it('adds the demo rows beside other data and never touches it', async () => {
    const mine = await t.gql(`mutation { createTask(input: { title: "real work" }) { id } }`);
    expect(mine.body.errors).toBeUndefined();
    const before = await counts(t);
    const report = await seedDemoData(t.gateway.dataSource, { now: new Date(Date.now() + 7_200_000) });
    expect(await counts(t)).toEqual(before);
    expect(report.added).toBe(0);
    expect(report.others.tasks).toBe(before.tasks - report.demo.tasks); // this one and the examples' createTask
    expect(describeSeed(report)).toContain(`other data left untouched beside it: ${report.others.tasks} tasks`);
    expect(await t.db.query(`SELECT title FROM tasks WHERE id = $1`, [mine.body.data.createTask.id])).toEqual([{ title: 'real work' }]);
  });

  it("npm run db:seed on the database a running gateway made (health samples written, the README's createTask done) adds the demo data and says so", async () => {
    // As `npm start` runs it: the health monitor on, here sampling every 200 ms instead of 30 s.
    const started = await startTestGateway({
      HEALTH_MONITOR_ENABLED: 'true',
      HEALTH_CHECK_INTERVAL_MS: '200',
      HEALTH_CHECK_TIMEOUT_MS: '150',
    });
    try {
      for (let i = 0; (await counts(started)).metrics === 0; i++) {
        if (i > 100) throw new Error('the health monitor wrote no sample');
        await new Promise((r) => setTimeout(r, 100));
      }
      const created = await started.gql(`mutation { createTask(input: { title: "My first task", priority: 3 }) { id } }`);
      expect(created.body.errors).toBeUndefined();
      const env = { DATABASE_URL: started.db.url };
      const first = await npmSeed(env);
      expect(first).toMatchObject({ code: 0, output: expect.stringContaining('demo data in place: 17 tasks') });
      expect(first.output).toMatch(/\(\d+ rows added, 0 refreshed\); other data left untouched beside it: 1 tasks, \d+ metrics/);
      const seeded = await counts(started);
      expect(seeded.tasks).toBe(18);
      const again = await npmSeed(env);
      expect(again).toMatchObject({ code: 0, output: expect.stringMatching(/\(0 rows added, \d+ refreshed\)/) });
      expect((await counts(started)).tasks).toBe(18);
      expect(await started.db.query(`SELECT title FROM tasks WHERE id = $1`, [created.body.data.createTask.id])).toEqual([
        { title: 'My first task' },
      ]);
      expect((await npmSeed(env, '--force')).code).toBe(0); // once needed; still accepted
      expect(await npmSeed(env, '--wipe')).toMatchObject({ code: 2, output: expect.stringContaining('unknown argument: --wipe') });
    } finally {
      await started.close();
    }
  }, 120_000);
});

it('npm run db:seed with nothing configured seeds the embedded database, and the examples then return data', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-seed-embedded-'));
  chmodSync(dir, 0o755); // as root, PostgreSQL runs as an unprivileged user that must reach it
  const env = { EMBEDDED_PG_PORT: String(await freePort()), EMBEDDED_PG_DATA_DIR: join(dir, 'postgres') };
  try {
    const seeded = await npmSeed(env);
    expect(seeded).toMatchObject({ code: 0, output: expect.stringContaining('embedded PostgreSQL listening') });
    expect(seeded.output).toContain('demo data in place');
    // The README's first step: an admin token, issued on that same embedded database.
    const issued = await run(
      process.execPath,
      ['-r', '@swc-node/register', 'scripts/token-create.ts', '--role', 'admin', '--name', 'seed-test'],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env, LOG_LEVEL: 'warn' },
        timeout: 120_000,
      },
    );
    const token = issued.stdout.trim();
    expect(token).toMatch(/^tmg_/);
    // Now `npm start` on that same embedded database (a child process: the embedded server is an
    // ES module that jest's sandbox cannot import): the README's operations return data.
    const port = await freePort();
    const gateway = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    gateway.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise((resolve) => gateway.once('exit', resolve));
    try {
      const base = `http://127.0.0.1:${port}`;
      for (let i = 0; ; i++) {
        const up = await fetch(`${base}/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (up) break;
        if (i > 600 || gateway.exitCode !== null) throw new Error(`npm start did not come up: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const gql = async (query: string, variables?: Record<string, unknown>) => {
        const res = await fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ query, variables }),
        });
        return { status: res.status, headers: res.headers, body: await res.json() };
      };
      const answers = await runExamples(gql, new Date());
      expect(answers['Task board'].tasks.totalCount).toBeGreaterThan(0);
    } finally {
      gateway.kill('SIGTERM');
      await exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);
