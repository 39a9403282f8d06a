/**
 * Keeps the benchmark harness working (bench/README.md): seeds a tiny data set through the real
 * `bench:seed` command, then runs the real `bench` command for about a second per shape at two
 * connections against a gateway started here, and reads the JSON it writes. No timing is asserted.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { taskId } from '../bench/data';
import { buildSchema, parse, validate } from 'graphql';
import { SHAPES, type BenchResult, type QueryFile } from '../bench/harness';
import { startTestGateway, type TestGateway } from './support/gateway';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');
const TINY = ['--tasks', '200', '--executions', '3', '--integrations', '3', '--metrics', '2000', '--metric-names', '4', '--days', '2'];

/**
 * Which shapes the gateway can answer: those whose query in bench/queries/gateway.json is valid
 * against the committed schema.graphql. `list`, `nested`, `byId` and `series` need the dashboard
 * API (Relay connections with filters and ordering, Task.executions, metricSeries); `create` is
 * there from the foundation on. All five are run either way: the valid ones must answer without a
 * single error, the others must be reported as errors, never as successes.
 */
const QUERIES = JSON.parse(readFileSync(join(ROOT, 'bench/queries/gateway.json'), 'utf8')) as QueryFile;
const SCHEMA = buildSchema(readFileSync(join(ROOT, 'schema.graphql'), 'utf8'));
const ANSWERABLE = SHAPES.filter((shape) => validate(SCHEMA, parse(QUERIES.shapes[shape]!.query)).length === 0);
const UNANSWERABLE = SHAPES.filter((shape) => !ANSWERABLE.includes(shape));

function node(script: string, args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, ['-r', '@swc-node/register', script, ...args], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'error', ...env },
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
}

async function fails(promise: Promise<unknown>): Promise<{ code: number; stderr: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
  throw new Error('expected the command to fail');
}

let t: TestGateway;
let dir: string;
beforeAll(async () => {
  t = await startTestGateway();
  dir = mkdtempSync(join(tmpdir(), 'tm-bench-'));
}, 60_000);
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const fingerprint = async () =>
  (
    await t.db.query(`SELECT
      (SELECT md5(string_agg(id::text || title || status || coalesce(priority, -1) || coalesce(parent_task_id::text, '') || created_at, ',' ORDER BY id)) FROM tasks) AS tasks,
      (SELECT md5(string_agg(id::text || task_id || status || log_count, ',' ORDER BY id)) FROM task_executions) AS executions,
      (SELECT md5(string_agg(execution_id::text || seq || level || message, ',' ORDER BY execution_id, seq)) FROM execution_log_entries) AS logs,
      (SELECT md5(string_agg(id::text || metric_name || metric_value || timestamp, ',' ORDER BY id)) FROM system_metrics) AS metrics`)
  )[0];

describe('bench:seed', () => {
  it('loads the requested sizes, with subtasks and executions, the same rows on every run', async () => {
    await node('bench/seed.ts', TINY, { DATABASE_URL: t.db.url });
    const [counts] = await t.db.query(`SELECT
      (SELECT count(*) FROM tasks)::int AS tasks,
      (SELECT count(*) FROM tasks WHERE parent_task_id IS NOT NULL)::int AS subtasks,
      (SELECT count(*) FROM task_executions)::int AS executions,
      (SELECT count(*) FROM external_integrations)::int AS integrations,
      (SELECT count(*) FROM system_metrics)::int AS metrics,
      (SELECT count(DISTINCT metric_name) FROM system_metrics)::int AS names,
      (SELECT count(DISTINCT execution_id) FROM execution_log_entries)::int AS logged`);
    expect(counts).toEqual({ tasks: 200, subtasks: 20, executions: 600, integrations: 3, metrics: 2000, names: 4, logged: 600 });
    // The query files name seeded subtasks by id: the JS formula must match the SQL.
    const [ten] = await t.db.query('SELECT title, parent_task_id FROM tasks WHERE id = $1', [taskId(10)]);
    expect(ten.title).toMatch(/^Task 10: /);
    expect(ten.parent_task_id).not.toBeNull();

    const first = await fingerprint();
    await t.db.query(`UPDATE tasks SET title = 'changed' WHERE id = $1`, [taskId(1)]);
    // A database not named for the bench that holds tasks is only replaced with --force.
    const refused = await fails(node('bench/seed.ts', TINY, { DATABASE_URL: t.db.url }));
    expect(refused.stderr).toContain('pass --force');
    expect((await t.db.query('SELECT title FROM tasks WHERE id = $1', [taskId(1)]))[0].title).toBe('changed');
    await node('bench/seed.ts', [...TINY, '--force'], { DATABASE_URL: t.db.url });
    expect(await fingerprint()).toEqual(first);
  }, 120_000);

  it('refuses bad flags with usage and exit code 2, changing nothing', async () => {
    const before = await fingerprint();
    const { code, stderr } = await fails(node('bench/seed.ts', ['--tasks', 'many'], { DATABASE_URL: t.db.url }));
    expect(code).toBe(2);
    expect(stderr).toContain('--tasks: expected a whole number');
    expect(await fingerprint()).toEqual(before);
  }, 60_000);
});

describe('bench', () => {
  // Every request needs a bearer token (issue 6): made as bench/README.md says, through the real
  // `token:create` command on this database. The test gateway's per-minute budget is set far above
  // what a run sends (RATE_LIMIT_PER_MINUTE in test/support/gateway.ts), so nothing is throttled.
  let token: string;
  beforeAll(async () => {
    const { stdout } = await node('scripts/token-create.ts', ['--role', 'operator', '--name', 'bench'], { DATABASE_URL: t.db.url });
    token = stdout.trim();
    expect(token).toMatch(/^\S+$/);
  }, 60_000);

  it('can answer create at least (the foundation has it)', () => {
    expect(ANSWERABLE).toContain('create');
  });

  it(`measures ${ANSWERABLE.join(', ')} with requests, latency and SQL counts and no errors; reports ${UNANSWERABLE.join(', ') || 'nothing else'} as errors`, async () => {
    const out = join(dir, 'result.json');
    const { stdout } = await node('bench/run.ts', [
      '--url',
      `${t.baseUrl}/graphql`,
      '--token',
      token,
      '--shapes',
      SHAPES.join(','),
      '--duration',
      '1',
      '--warmup',
      '0',
      '--connections',
      '2',
      '--sample',
      '3',
      '--db-url',
      t.db.url,
      '--out',
      out,
    ]);
    expect(stdout).toContain('req/s');
    const result = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    expect(result.settings).toMatchObject({ connections: 2, durationSec: 1, shapes: [...SHAPES] });
    for (const shape of UNANSWERABLE) {
      const ours = result.shapes[shape]?.ours;
      expect(ours!.requests).toBeGreaterThan(0);
      expect({ shape, refused: ours!.graphqlErrors, sample: ours!.sample.graphqlErrors }).toEqual({
        shape,
        refused: ours!.requests,
        sample: 3,
      });
    }
    for (const shape of ANSWERABLE) {
      const ours = result.shapes[shape]?.ours;
      expect(ours).toBeDefined();
      expect(ours!.requests).toBeGreaterThan(0);
      expect(ours!.rps).toBeGreaterThan(0);
      expect(ours!.latencyMs.p95).toBeGreaterThanOrEqual(ours!.latencyMs.p50);
      expect({
        shape,
        non2xx: ours!.non2xx,
        socketErrors: ours!.socketErrors,
        graphqlErrors: ours!.graphqlErrors,
        sample: ours!.sample,
      }).toEqual({
        shape,
        non2xx: 0,
        socketErrors: 0,
        graphqlErrors: 0,
        sample: { requests: 3, graphqlErrors: 0, checkFailures: 0 },
      });
      // Counted by the database (pg_stat_statements) or by the gateway's own header.
      expect(ours!.sql.perRequest).toBeGreaterThan(0);
      expect(ours!.sql.transactionsPerRequest).not.toBeNull();
    }
    // Every request of the create shape made a task with a distinct title.
    const [{ created, titles }] = await t.db.query(
      `SELECT count(*)::int AS created, count(DISTINCT title)::int AS titles FROM tasks WHERE title LIKE 'bench create %'`,
    );
    expect(created).toBeGreaterThanOrEqual(result.shapes.create!.ours!.requests);
    expect(titles).toBe(created);
  }, 120_000);

  it('counts GraphQL errors and failed checks instead of reporting them as successes', async () => {
    const queries = join(dir, 'broken.json');
    writeFileSync(
      queries,
      JSON.stringify({
        name: 'broken',
        shapes: {
          list: { query: '{ noSuchField }' },
          byId: {
            query: 'query($id: UUID!) { task(id: $id) { id } }',
            variables: { id: '00000000-0000-4000-8000-000000000000' },
            check: ['task.id'],
          },
        },
      }),
    );
    const out = join(dir, 'broken-result.json');
    await node('bench/run.ts', [
      '--url',
      `${t.baseUrl}/graphql`,
      '--token',
      token,
      '--queries',
      queries,
      '--shapes',
      'list,byId',
      '--duration',
      '0.5',
      '--warmup',
      '0',
      '--connections',
      '2',
      '--sample',
      '2',
      '--out',
      out,
    ]);
    const result = JSON.parse(readFileSync(out, 'utf8')) as BenchResult;
    const list = result.shapes.list!.ours!;
    expect(list.sample.graphqlErrors).toBe(2);
    expect(list.graphqlErrors).toBe(list.requests);
    expect(list.sample.firstProblem).toContain('noSuchField');
    const byId = result.shapes.byId!.ours!;
    expect(byId.sample.checkFailures).toBe(2);
    expect(byId.sample.firstProblem).toContain('data.task.id is');
  }, 120_000);

  it('needs --url and refuses unknown shapes, with usage and exit code 2', async () => {
    const noUrl = await fails(node('bench/run.ts', []));
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('--url is required');
    const badShape = await fails(node('bench/run.ts', ['--url', `${t.baseUrl}/graphql`, '--shapes', 'list,everything']));
    expect(badShape.code).toBe(2);
    expect(badShape.stderr).toContain('unknown shape "everything"');
  }, 60_000);
});
