import { purgeExecutionLogs, LOG_RETENTION_LOCK } from '../src/executions/log-retention';
import { LOGS_FIELD_LIMIT } from '../src/executions/log-entry.sql';
import { startTestGateway, type TestGateway } from './support/gateway';
import { Client } from 'pg';

/* Execution logs as rows (execution_log_entries): appends, logEntries, the bounded logs field, retention. */
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
}, 60_000);
afterAll(() => t?.close());

const APPEND = `mutation($id: UUID!, $e: [JSON!]!) { appendExecutionLog(input: { id: $id, entries: $e }) { id logCount } }`;

async function startExecution(title = 'with a log'): Promise<string> {
  const task = await t.gql(`mutation($title: String!) { createTask(input: { title: $title }) { id } }`, { title });
  const run = await t.gql(`mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "claude" }) { id } }`, {
    id: task.body.data.createTask.id,
  });
  expect(run.body.errors).toBeUndefined();
  return run.body.data.startExecution.id;
}

async function append(id: string, entries: unknown[]) {
  const res = await t.gql(APPEND, { id, e: entries });
  expect(res.body.errors).toBeUndefined();
  return res.body.data.appendExecutionLog;
}

async function rowsOf(id: string) {
  return t.db.query(`SELECT seq, level, message, data FROM execution_log_entries WHERE execution_id = $1 ORDER BY seq`, [id]);
}

describe('appendExecutionLog', () => {
  it('50 concurrent appenders to one execution: every entry once, seq without gaps, each batch whole and in order', async () => {
    const id = await startExecution();
    const writers = 50;
    const batch = 4;
    const results = await Promise.all(
      Array.from({ length: writers }, (_, w) => t.gql(APPEND, { id, e: Array.from({ length: batch }, (_, k) => ({ w, k })) })),
    );
    expect(results.map((r) => r.body.errors)).toEqual(results.map(() => undefined));
    const rows = await rowsOf(id);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: writers * batch }, (_, i) => i));
    expect(new Set(rows.map((r) => `${r.data.w}/${r.data.k}`)).size).toBe(writers * batch);
    // each call's entries are consecutive, in the order given
    for (let i = 0; i < rows.length; i += batch) {
      const slice = rows.slice(i, i + batch);
      expect(slice.map((r) => r.data)).toEqual(Array.from({ length: batch }, (_, k) => ({ w: slice[0].data.w, k })));
    }
    const [exec] = await t.db.query(`SELECT log_count FROM task_executions WHERE id = $1`, [id]);
    expect(exec.log_count).toBe(writers * batch);
    // the answers' logCount: each call saw its own batch land after those before it
    expect(results.map((r) => r.body.data.appendExecutionLog.logCount).sort((a, b) => a - b)).toEqual(
      Array.from({ length: writers }, (_, w) => (w + 1) * batch),
    );
    // one LOG row in the change log per entry, log_index = seq (numbered first: rows get their seq from the sequencer)
    await t.db.query(`SELECT change_log_sequence()`);
    const logRows = await t.db.query(`SELECT log_index FROM change_log WHERE operation = 'LOG' AND row_id = $1 ORDER BY seq`, [id]);
    expect(logRows.map((r) => r.log_index)).toEqual(rows.map((r) => r.seq));
    // and no UPDATE events for the appends
    const updates = await t.db.query(`SELECT count(*)::int AS n FROM change_log WHERE operation = 'UPDATE' AND row_id = $1`, [id]);
    expect(updates[0].n).toBe(0);
  });

  it('stores an entry split into level, message and data, and gives it back exactly as appended (logs, deprecated)', async () => {
    const id = await startExecution();
    const entries = [
      'plain text',
      { level: 'error', message: 'boom', code: 7, at: '2026-01-01T00:00:00.000Z' },
      { level: 'fatal', message: 'not a LogLevel', nested: { a: [1, null] } },
      { message: 42 },
      { level: 'info' },
      { message: 'just a message' },
      12.5,
      [1, 'two'],
      true,
      {},
    ];
    await append(id, entries);
    const rows = await rowsOf(id);
    expect(rows[0]).toEqual({ seq: 0, level: null, message: 'plain text', data: null });
    expect(rows[1]).toEqual({ seq: 1, level: 'error', message: 'boom', data: { code: 7, at: '2026-01-01T00:00:00.000Z' } });
    expect(rows[2]).toMatchObject({ level: null, message: 'not a LogLevel', data: { level: 'fatal', nested: { a: [1, null] } } });
    expect(rows[3]).toMatchObject({ level: null, message: null, data: { message: 42 } });
    expect(rows[6]).toMatchObject({ level: null, message: null, data: 12.5 });
    const res = await t.gql(`query($id: UUID!) { execution(id: $id) { logCount logs } }`, { id });
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.execution).toEqual({ logCount: entries.length, logs: entries });
    expect(res.headers.get('x-sql-statements')).toBe('1');
  });

  it('logs answers only the last LOGS_FIELD_LIMIT entries, oldest first; the schema says so and deprecates it', async () => {
    const id = await startExecution();
    await append(
      id,
      Array.from({ length: 600 }, (_, i) => i),
    );
    await append(
      id,
      Array.from({ length: 600 }, (_, i) => 600 + i),
    );
    const res = await t.gql(`query($id: UUID!) { execution(id: $id) { logs } }`, { id });
    expect(res.body.data.execution.logs).toEqual(Array.from({ length: LOGS_FIELD_LIMIT }, (_, i) => 1200 - LOGS_FIELD_LIMIT + i));
    // the loader path (the mutation's answer) reads the same
    const appended = await t.gql(`mutation($id: UUID!) { appendExecutionLog(input: { id: $id, entries: ["last"] }) { logs } }`, { id });
    const logs = appended.body.data.appendExecutionLog.logs;
    expect(logs).toHaveLength(LOGS_FIELD_LIMIT);
    expect(logs[LOGS_FIELD_LIMIT - 1]).toBe('last');
    const schema = await t.gql(
      `{ __type(name: "TaskExecution") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } } }`,
    );
    const field = schema.body.data.__type.fields.find((f: any) => f.name === 'logs');
    expect(field).toMatchObject({ isDeprecated: true, deprecationReason: expect.stringContaining(`${LOGS_FIELD_LIMIT}`) });
  });

  it('refuses bad input with BAD_USER_INPUT and writes nothing', async () => {
    const id = await startExecution();
    const cases: [string, unknown[]][] = [
      ['huge message', [{ message: 'x'.repeat(70_000) }]],
      ['NUL in a message', ['before\u0000after']],
      ['NUL in a key', [{ 'a\u0000b': 1 }]],
      ['too many entries', Array.from({ length: 1001 }, () => 'x')],
      ['no entries', []],
      ['too many bytes in all', Array.from({ length: 20 }, () => 'y'.repeat(4_000))],
    ];
    for (const [name, entries] of cases) {
      const res = await t.gql(APPEND, { id, e: entries });
      expect([name, res.body.errors?.[0]?.extensions?.code]).toEqual([name, 'BAD_USER_INPUT']);
    }
    expect(await rowsOf(id)).toEqual([]);
    const [exec] = await t.db.query(`SELECT log_count FROM task_executions WHERE id = $1`, [id]);
    expect(exec.log_count).toBe(0);
    const audit = await t.db.query(`SELECT count(*)::int AS n FROM audit_log WHERE entity_id = $1 AND operation = 'appendExecutionLog'`, [
      id,
    ]);
    expect(audit[0].n).toBe(0);
  });
});

describe('TaskExecution.logEntries', () => {
  let id: string;
  let middle: string;
  beforeAll(async () => {
    id = await startExecution('paged log');
    const levels = ['debug', 'info', 'warn', 'error', undefined];
    await append(
      id,
      Array.from({ length: 10 }, (_, i) => ({ level: levels[i % 5], message: `first ${i}` })),
    );
    await new Promise((r) => setTimeout(r, 20));
    const [row] = await t.db.query(`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS now`);
    middle = row.now;
    await new Promise((r) => setTimeout(r, 20));
    await append(
      id,
      Array.from({ length: 10 }, (_, i) => ({ level: levels[i % 5], message: `second ${i}` })),
    );
  });

  const PAGE = `query($id: UUID!, $first: Int, $after: String, $last: Int, $level: LogLevel, $since: DateTime) {
    execution(id: $id) { logEntries(first: $first, after: $after, last: $last, level: $level, since: $since) {
      totalCount edges { cursor node { seq level message data at executionId } } pageInfo { hasNextPage endCursor } } } }`;

  it('pages forwards in seq order with cursors, in one statement per request', async () => {
    const seen: number[] = [];
    let after: string | null = null;
    for (;;) {
      const res: { body: any; headers: Headers } = await t.gql(PAGE, { id, first: 6, after });
      expect(res.body.errors).toBeUndefined();
      expect(res.headers.get('x-sql-statements')).toBe('1');
      const page: any = res.body.data.execution.logEntries;
      expect(page.totalCount).toBe(20);
      seen.push(...page.edges.map((e: any) => e.node.seq));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const first = await t.gql(PAGE, { id, first: 1 });
    expect(first.body.data.execution.logEntries.edges[0].node).toEqual({
      seq: 0,
      level: 'DEBUG',
      message: 'first 0',
      data: {},
      at: expect.any(String),
      executionId: id,
    });
    const tail = await t.gql(PAGE, { id, last: 2 });
    expect(tail.body.data.execution.logEntries.edges.map((e: any) => e.node.message)).toEqual(['second 8', 'second 9']);
  });

  it('level keeps entries of that level or above; since keeps those appended at or after it', async () => {
    const warn = await t.gql(PAGE, { id, first: 100, level: 'WARN' });
    const nodes = warn.body.data.execution.logEntries.edges.map((e: any) => e.node);
    expect(nodes.map((n: any) => n.level)).toEqual(['WARN', 'ERROR', 'WARN', 'ERROR', 'WARN', 'ERROR', 'WARN', 'ERROR']);
    expect(warn.body.data.execution.logEntries.totalCount).toBe(8);
    const since = await t.gql(PAGE, { id, first: 100, since: middle });
    expect(since.body.data.execution.logEntries.edges.map((e: any) => e.node.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 10 + i));
    const both = await t.gql(PAGE, { id, first: 100, since: middle, level: 'ERROR' });
    expect(both.body.data.execution.logEntries.edges.map((e: any) => e.node.message)).toEqual(['second 3', 'second 8']);
  });

  it('reads the logs of a list of executions in one statement; a mutation answer through the loaders, the same', async () => {
    const planned = await t.gql(
      `{ executions(first: 50) { nodes { id logs logEntries(first: 2, level: ERROR) { nodes { seq message } } } } }`,
    );
    expect(planned.body.errors).toBeUndefined();
    expect(planned.headers.get('x-sql-statements')).toBe('1');
    const mine = planned.body.data.executions.nodes.find((n: any) => n.id === id);
    expect(mine.logEntries.nodes).toEqual([
      { seq: 3, message: 'first 3' },
      { seq: 8, message: 'first 8' },
    ]);
    // nested under a task, planned too
    const [task] = await t.db.query(`SELECT task_id FROM task_executions WHERE id = $1`, [id]);
    const nested = await t.gql(
      `query($task: UUID!) { task(id: $task) { executions(filter: { status: [RUNNING] }) { nodes { id logEntries(first: 2, level: ERROR) { nodes { seq message } } } } } }`,
      { task: task.task_id },
    );
    expect(nested.body.errors).toBeUndefined();
    expect(nested.headers.get('x-sql-statements')).toBe('1');
    expect(nested.body.data.task.executions.nodes[0].logEntries.nodes).toEqual(mine.logEntries.nodes);
    // a mutation's answer is read through the loaders: the same page
    const other = await startExecution('loader path');
    const loaded = await t.gql(
      `mutation($id: UUID!) { appendExecutionLog(input: { id: $id, entries: [{ level: "error", message: "a" }, "b", { level: "error", message: "c" }] }) {
        logEntries(first: 5, level: ERROR) { totalCount nodes { seq message level } pageInfo { hasNextPage } } } }`,
      { id: other },
    );
    expect(loaded.body.errors).toBeUndefined();
    expect(loaded.body.data.appendExecutionLog.logEntries).toEqual({
      totalCount: 2,
      nodes: [
        { seq: 0, message: 'a', level: 'ERROR' },
        { seq: 2, message: 'c', level: 'ERROR' },
      ],
      pageInfo: { hasNextPage: false },
    });
  });

  it('refuses a page beyond the maximum and a bad cursor with BAD_USER_INPUT', async () => {
    const big = await t.gql(PAGE, { id, first: 101 });
    expect(big.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const bad = await t.gql(PAGE, { id, first: 1, after: 'not-a-cursor' });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('EXECUTION_LOG_RETENTION_DAYS (purgeExecutionLogs)', () => {
  it('deletes only the entries of executions finished before the window, in batches; 0 keeps everything', async () => {
    const old = await startExecution('old');
    const recent = await startExecution('recent');
    const open = await startExecution('open, started long ago');
    for (const id of [old, recent, open])
      await append(
        id,
        Array.from({ length: 7 }, (_, i) => `line ${i}`),
      );
    await t.db.query(`UPDATE task_executions SET status = 'succeeded', completed_at = now() - interval '31 days' WHERE id = $1`, [old]);
    await t.db.query(`UPDATE task_executions SET status = 'failed', completed_at = now() - interval '29 days' WHERE id = $1`, [recent]);
    await t.db.query(
      `UPDATE task_executions SET started_at = now() - interval '400 days', created_at = now() - interval '400 days' WHERE id = $1`,
      [open],
    );
    const ds = t.gateway.dataSource;
    expect(await purgeExecutionLogs(ds, 0)).toEqual({ deleted: 0, ran: true });
    expect(await rowsOf(old)).toHaveLength(7);

    // another instance's batch holds the lock: this pass stops without deleting
    const other = new Client({ connectionString: t.db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [LOG_RETENTION_LOCK]);
      expect(await purgeExecutionLogs(ds, 30, 3)).toEqual({ deleted: 0, ran: false });
      await other.query('COMMIT');
    } finally {
      await other.end();
    }
    expect(await rowsOf(old)).toHaveLength(7);

    const pass = await purgeExecutionLogs(ds, 30, 3);
    expect(pass.ran).toBe(true);
    expect(pass.deleted).toBeGreaterThanOrEqual(7); // other tests' executions are open or recent
    expect(await rowsOf(old)).toEqual([]);
    expect(await rowsOf(recent)).toHaveLength(7);
    expect(await rowsOf(open)).toHaveLength(7);
    const [exec] = await t.db.query(`SELECT log_count FROM task_executions WHERE id = $1`, [old]);
    expect(exec.log_count).toBe(7); // the execution keeps its count
  });
});
