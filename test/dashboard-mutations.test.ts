import { startTestGateway, type TestGateway } from './support/gateway';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

const codeOf = (res: any) => res.body.errors?.[0]?.extensions?.code;
const statements = (res: { headers: Headers }) => Number(res.headers.get('x-sql-statements'));
function ok(res: { body: { data?: any; errors?: unknown[] } }) {
  expect(res.body.errors).toBeUndefined();
  return res.body.data;
}
const count = async (sql: string, params: unknown[] = []) =>
  (await t.db.query(`SELECT count(*)::int AS n FROM ${sql}`, params))[0].n as number;

async function createTask(input: Record<string, unknown>) {
  return ok(await t.gql(`mutation($i: CreateTaskInput!) { createTask(input: $i) { id status completedAt } }`, { i: input })).createTask;
}

describe('task lifecycle', () => {
  it('creates a task in one statement, with or without a parent', async () => {
    const res = await t.gql(
      `mutation { createTask(input: { title: "cheap", priority: 2, metadata: { a: 1 }, acceptanceCriteria: ["x"] }) { id title priority metadata acceptanceCriteria type status } }`,
    );
    expect(ok(res).createTask).toMatchObject({
      title: 'cheap',
      priority: 2,
      metadata: { a: 1 },
      acceptanceCriteria: ['x'],
      type: 'general',
      status: 'PENDING',
    });
    expect(statements(res)).toBe(1);
    const child = await t.gql(`mutation($p: UUID!) { createTask(input: { title: "child", parentTaskId: $p }) { parentTaskId } }`, {
      p: res.body.data.createTask.id,
    });
    expect(ok(child).createTask.parentTaskId).toBe(res.body.data.createTask.id);
    expect(statements(child)).toBe(1);
  });

  it('refuses a missing parent as BAD_USER_INPUT naming the field, inserting nothing', async () => {
    const before = await count('tasks');
    const missing = '00000000-0000-4000-8000-000000000001';
    const a = await t.gql(`mutation($p: UUID!) { createTask(input: { title: "orphan", parentTaskId: $p }) { id } }`, { p: missing });
    expect(a.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parentTaskId' });
    const b = await t.gql(`mutation($p: UUID!) { createSubtask(input: { parentId: $p, title: "orphan" }) { id } }`, { p: missing });
    expect(b.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parentId' });
    expect(await count('tasks')).toBe(before);
  });

  it('creates subtasks, and a mutation clears what it changed from the request loaders', async () => {
    const parent = await createTask({ title: 'epic' });
    const res = await t.gql(
      `mutation($p: UUID!) {
        a: createSubtask(input: { parentId: $p, title: "one", priority: 1 }) { title parent { id subtasks(first: 10) { totalCount nodes { title } } } }
        b: createSubtask(input: { parentId: $p, title: "two" }) { title parent { id subtasks(first: 10) { totalCount nodes { title } } } }
      }`,
      { p: parent.id },
    );
    const data = ok(res);
    expect(data.a.parent.subtasks.totalCount).toBe(1);
    expect(data.b.parent.subtasks.totalCount).toBe(2);
    expect(data.b.parent.subtasks.nodes.map((n: any) => n.title)).toEqual(['two', 'one']);
    expect(await count('tasks WHERE parent_task_id = $1', [parent.id])).toBe(2);
  });

  it('moves status along the state machine, setting and clearing completedAt', async () => {
    const task = await createTask({ title: 'moves' });
    const move = (status: string) =>
      t.gql(`mutation($i: UpdateTaskStatusInput!) { updateTaskStatus(input: $i) { status completedAt } }`, { i: { id: task.id, status } });
    const started = await move('IN_PROGRESS');
    expect(ok(started).updateTaskStatus).toEqual({ status: 'IN_PROGRESS', completedAt: null });
    expect(statements(started)).toBe(1);
    const failed = ok(await move('FAILED')).updateTaskStatus;
    expect(failed.completedAt).not.toBeNull();
    // repeating the current status is a no-op that keeps completedAt
    expect(ok(await move('FAILED')).updateTaskStatus).toEqual(failed);
    expect(ok(await move('PENDING')).updateTaskStatus).toEqual({ status: 'PENDING', completedAt: null });
    expect(ok(await move('CANCELLED')).updateTaskStatus.status).toBe('CANCELLED');
  });

  it('refuses illegal moves with the allowed ones named, changing nothing', async () => {
    const task = await createTask({ title: 'strict' });
    const res = await t.gql(`mutation($i: UpdateTaskStatusInput!) { updateTaskStatus(input: $i) { status } }`, {
      i: { id: task.id, status: 'COMPLETED' },
    });
    expect(res.body.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'status',
      from: 'PENDING',
      allowed: ['IN_PROGRESS', 'CANCELLED'],
    });
    expect(res.body.errors?.[0].message).toMatch(/allowed: IN_PROGRESS, CANCELLED/);
    const [row] = await t.db.query(`SELECT status, completed_at, updated_at FROM tasks WHERE id = $1`, [task.id]);
    expect(row).toMatchObject({ status: 'pending', completed_at: null });

    await t.db.query(`UPDATE tasks SET status = 'completed' WHERE id = $1`, [task.id]);
    const final = await t.gql(`mutation($i: UpdateTaskStatusInput!) { updateTaskStatus(input: $i) { status } }`, {
      i: { id: task.id, status: 'PENDING' },
    });
    expect(final.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', allowed: [] });
    expect((await t.db.query(`SELECT status FROM tasks WHERE id = $1`, [task.id]))[0].status).toBe('completed');

    const missing = await t.gql(
      `mutation { updateTaskStatus(input: { id: "00000000-0000-4000-8000-000000000002", status: PENDING }) { status } }`,
    );
    expect(codeOf(missing)).toBe('NOT_FOUND');
  });

  it('lets exactly one of two racing moves from the same state win', async () => {
    const task = await createTask({ title: 'race' });
    await t.gql(`mutation($id: UUID!) { updateTaskStatus(input: { id: $id, status: IN_PROGRESS }) { status } }`, { id: task.id });
    const results = await Promise.all(
      ['COMPLETED', 'FAILED', 'COMPLETED', 'FAILED'].map((status) =>
        t.gql(`mutation($i: UpdateTaskStatusInput!) { updateTaskStatus(input: $i) { status } }`, { i: { id: task.id, status } }),
      ),
    );
    const won = results.filter((r) => !r.body.errors);
    const [row] = await t.db.query(`SELECT status FROM tasks WHERE id = $1`, [task.id]);
    // the winner's status sticks; a repeat of the same final status is a no-op, anything else is refused:
    // BAD_USER_INPUT when it read the final state, CONFLICT (with the current state) when it read
    // IN_PROGRESS and lost the race to the row (src/tasks/task.status.ts)
    expect(won.every((r) => r.body.data.updateTaskStatus.status === row.status.toUpperCase())).toBe(true);
    expect(results.filter((r) => r.body.errors).every((r) => ['BAD_USER_INPUT', 'CONFLICT'].includes(codeOf(r)))).toBe(true);
  });
});

describe('executions', () => {
  it('appends log entries in one statement; concurrent appends all land', async () => {
    const task = await createTask({ title: 'logged' });
    const { startExecution } = ok(
      await t.gql(`mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "codegen" }) { id logs } }`, { id: task.id }),
    );
    expect(startExecution.logs).toEqual([]);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        t.gql(`mutation($i: AppendExecutionLogInput!) { appendExecutionLog(input: $i) { id } }`, {
          i: { id: startExecution.id, entries: [{ n: i }, `line ${i}`] },
        }),
      ),
    );
    results.forEach((r) => {
      ok(r);
      expect(statements(r)).toBe(1);
    });
    const { logs } = ok(await t.gql(`query($id: UUID!) { execution(id: $id) { logs } }`, { id: startExecution.id })).execution;
    expect(logs).toHaveLength(40);
    for (let i = 0; i < 20; i++) {
      const at = logs.findIndex((e: any) => e?.n === i);
      expect(logs[at + 1]).toBe(`line ${i}`); // one call's entries stay together and in order
    }
    const missing = await t.gql(
      `mutation { appendExecutionLog(input: { id: "00000000-0000-4000-8000-000000000003", entries: [1] }) { id } }`,
    );
    expect(codeOf(missing)).toBe('NOT_FOUND');
    const empty = await t.gql(`mutation($id: UUID!) { appendExecutionLog(input: { id: $id, entries: [] }) { id } }`, {
      id: startExecution.id,
    });
    expect(codeOf(empty)).toBe('BAD_USER_INPUT');
    expect(
      (await t.db.query(`SELECT count(*)::int AS n FROM execution_log_entries WHERE execution_id = $1`, [startExecution.id]))[0].n,
    ).toBe(40);
  });

  it('starts and finishes an execution in one statement each, with their state rules', async () => {
    const task = await createTask({ title: 'to run' });
    const started = await t.gql(
      `mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "claude", agentConfig: { model: "m" } }) { id status agentConfig startedAt } }`,
      { id: task.id },
    );
    const execution = ok(started).startExecution;
    expect(execution).toMatchObject({ status: 'RUNNING', agentConfig: { model: 'm' } });
    expect(execution.startedAt).not.toBeNull();
    expect(statements(started)).toBe(1);

    const finish = (status: string) =>
      t.gql(`mutation($i: FinishExecutionInput!) { finishExecution(input: $i) { status errorDetails completedAt } }`, {
        i: { id: execution.id, status, errorDetails: { reason: 'oom' } },
      });
    const failed = await finish('FAILED');
    expect(ok(failed).finishExecution).toMatchObject({ status: 'FAILED', errorDetails: { reason: 'oom' } });
    expect(statements(failed)).toBe(1);
    const again = await finish('SUCCEEDED');
    expect(again.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    expect((await t.db.query(`SELECT status FROM task_executions WHERE id = $1`, [execution.id]))[0].status).toBe('failed');

    await t.db.query(`UPDATE tasks SET status = 'cancelled' WHERE id = $1`, [task.id]);
    const before = await count('task_executions');
    const refused = await t.gql(`mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "claude" }) { id } }`, {
      id: task.id,
    });
    expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'taskId' });
    expect(refused.body.errors?.[0].message).toMatch(/CANCELLED/);
    expect(await count('task_executions')).toBe(before);
  });

  it('reads latestExecution, executionCount and execution.task', async () => {
    const task = await createTask({ title: 'runs' });
    for (const agentType of ['a', 'b', 'c']) {
      ok(
        await t.gql(`mutation($id: UUID!, $a: String!) { startExecution(input: { taskId: $id, agentType: $a }) { id } }`, {
          id: task.id,
          a: agentType,
        }),
      );
    }
    const res = ok(
      await t.gql(
        `query($id: UUID!) { task(id: $id) { executionCount latestExecution { agentType task { title } } executions(last: 2) { nodes { agentType } pageInfo { hasPreviousPage } } } }`,
        { id: task.id },
      ),
    );
    expect(res.task).toEqual({
      executionCount: 3,
      latestExecution: { agentType: 'c', task: { title: 'runs' } },
      executions: { nodes: [{ agentType: 'b' }, { agentType: 'a' }], pageInfo: { hasPreviousPage: true } },
    });
  });
});

describe('recordMetrics', () => {
  const metrics = (n: number, extra: Record<string, unknown> = {}) =>
    Array.from({ length: n }, (_, i) => ({ category: 'bench', name: 'batch', value: i / 7, ...(i === n - 1 ? extra : {}) }));

  it('inserts 10,000 rows in one statement', async () => {
    const res = await t.gql(`mutation($m: [MetricInput!]!) { recordMetrics(input: $m) { count } }`, {
      m: metrics(10_000).map((m, i) =>
        i === 0 ? { ...m, unit: 'ms', dimensions: { host: 'a' }, timestamp: '2026-01-01T00:00:00.000Z' } : m,
      ),
    });
    expect(ok(res).recordMetrics.count).toBe(10_000);
    expect(statements(res)).toBe(1);
    expect(await count(`system_metrics WHERE metric_name = 'batch'`)).toBe(10_000);
    const [first] = await t.db.query(
      `SELECT metric_unit, dimensions, timestamp FROM system_metrics WHERE metric_name = 'batch' AND metric_unit = 'ms'`,
    );
    expect(first).toEqual({ metric_unit: 'ms', dimensions: { host: 'a' }, timestamp: new Date('2026-01-01T00:00:00.000Z') });
    const [{ v }] = await t.db.query(
      `SELECT metric_value::text AS v FROM system_metrics WHERE metric_name = 'batch' ORDER BY metric_value DESC LIMIT 1`,
    );
    expect(v).toBe((9999 / 7).toFixed(6));
  }, 60_000);

  it.each([
    ['10,001 rows', metrics(10_001)],
    ['a value beyond DECIMAL(15,6)', metrics(5, { value: 1e9 })],
    ['a name over 100 characters', metrics(5, { name: 'n'.repeat(101) })],
    ['a blank category', metrics(5, { category: '  ' })],
    ['a unit over 20 characters', metrics(5, { unit: 'u'.repeat(21) })],
  ])(
    'refuses %s as BAD_USER_INPUT and inserts nothing',
    async (_name, m) => {
      const before = await count('system_metrics');
      const res = await t.gql(`mutation($m: [MetricInput!]!) { recordMetrics(input: $m) { count } }`, { m });
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(await count('system_metrics')).toBe(before);
    },
    60_000,
  );

  it('lists metric names and categories', async () => {
    ok(
      await t.gql(
        `mutation { recordMetrics(input: [{ category: "db", name: "pool_wait" }, { category: "db", name: "conns" }].map) { count } }`
          .replace('.map', '')
          .replace(/name: "(\w+)" }/g, 'name: "$1", value: 1 }'),
      ),
    );
    expect(ok(await t.gql(`{ metricNames(category: "db") }`)).metricNames).toEqual(['conns', 'pool_wait']);
    expect(ok(await t.gql(`{ metricNames }`)).metricNames).toEqual(['batch', 'conns', 'pool_wait']);
    expect(ok(await t.gql(`{ metricCategories }`)).metricCategories).toEqual(['bench', 'db']);
  });
});

describe('integrations', () => {
  it('creates, lists with filters, enables, disables and deletes, never returning credentials', async () => {
    const create = (type: string, name: string) =>
      t.gql(`mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { id status } }`, {
        i: { type, name, configuration: { token: `secret-${name}` } },
      });
    const gh = ok(await create('GITHUB', 'gh')).createIntegration;
    const lin = ok(await create('LINEAR', 'lin')).createIntegration;
    ok(await create('GITHUB', 'gh2'));

    const disabled = await t.gql(`mutation($id: UUID!) { disableIntegration(input: { id: $id }) { id status } }`, { id: gh.id });
    expect(ok(disabled).disableIntegration).toEqual({ id: gh.id, status: 'DISABLED' });
    expect(statements(disabled)).toBe(1);
    // Disabling it again changes nothing: no version bump (other writers' expectedVersion stays good), no audit row.
    const audited = await count(`audit_log WHERE entity_id = $1`, [gh.id]);
    const again = await t.gql(`mutation($id: UUID!) { disableIntegration(input: { id: $id }) { status version } }`, { id: gh.id });
    expect(ok(again).disableIntegration).toEqual({ status: 'DISABLED', version: 2 });
    expect(await count(`audit_log WHERE entity_id = $1`, [gh.id])).toBe(audited);

    const list = (filter: unknown) =>
      t.gql(`query($f: IntegrationFilter) { integrations(first: 10, filter: $f) { totalCount nodes { name type status healthStatus } } }`, {
        f: filter,
      });
    expect(ok(await list({ type: ['GITHUB'] })).integrations.nodes.map((n: any) => n.name)).toEqual(['gh2', 'gh']);
    expect(ok(await list({ status: ['DISABLED'] })).integrations.nodes.map((n: any) => n.name)).toEqual(['gh']);
    expect(ok(await list({ healthStatus: ['UNKNOWN'], search: 'LIN' })).integrations).toEqual({
      totalCount: 1,
      nodes: [{ name: 'lin', type: 'LINEAR', status: 'ACTIVE', healthStatus: 'UNKNOWN' }],
    });

    expect(
      ok(await t.gql(`mutation($id: UUID!) { enableIntegration(input: { id: $id }) { status } }`, { id: gh.id })).enableIntegration.status,
    ).toBe('ACTIVE');
    const deleted = ok(await t.gql(`mutation($id: UUID!) { deleteIntegration(input: { id: $id }) { id name } }`, { id: lin.id }));
    expect(deleted.deleteIntegration).toEqual({ id: lin.id, name: 'lin' });
    expect(await count('external_integrations WHERE id = $1', [lin.id])).toBe(0);
    expect(codeOf(await t.gql(`mutation($id: UUID!) { deleteIntegration(input: { id: $id }) { id } }`, { id: lin.id }))).toBe('NOT_FOUND');

    const fields = ok(await t.gql(`{ __type(name: "ExternalIntegration") { fields { name } } }`)).__type.fields.map((f: any) => f.name);
    expect(fields).not.toContain('configuration');
    const asked = await t.gql(`{ integrations { nodes { configuration } } }`);
    expect(asked.body.data).toBeUndefined();
    expect(JSON.stringify(asked.body)).not.toMatch(/secret-/);
  });
});
