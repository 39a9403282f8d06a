import { startTestGateway, type TestGateway } from './support/gateway';

/** The dashboard API's one-statement mutations write their audit row in the same statement. */
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

async function mutate(query: string, variables: Record<string, unknown> = {}) {
  const before = await t.db.query(`SELECT count(*)::int AS n FROM audit_log`);
  const res = await t.gql(query, variables, { 'x-request-id': 'req-dash' });
  expect(res.body.errors).toBeUndefined();
  expect(res.headers.get('x-sql-statements')).toBe('1'); // still one statement, audit included
  const rows = await t.db.query(`SELECT * FROM audit_log ORDER BY occurred_at, id OFFSET $1`, [before[0].n]);
  expect(rows).toHaveLength(1);
  expect(rows[0]).toMatchObject({ actor_role: 'admin', request_id: 'req-dash' });
  return { data: res.body.data, row: rows[0] };
}

describe('audit of the dashboard mutations', () => {
  it('covers createSubtask, updateTaskStatus, appendExecutionLog, recordMetrics, enable/disable/deleteIntegration', async () => {
    const parent = (await t.gql(`mutation { createTask(input: { title: "parent" }) { id } }`)).body.data.createTask.id;
    const sub = await mutate(`mutation($p: UUID!) { createSubtask(input: { parentId: $p, title: "child" }) { id } }`, { p: parent });
    expect(sub.row).toMatchObject({ operation: 'createSubtask', entity: 'task', entity_id: sub.data.createSubtask.id });

    const moved = await mutate(`mutation($id: UUID!) { updateTaskStatus(input: { id: $id, status: IN_PROGRESS }) { id } }`, { id: parent });
    expect(moved.row).toMatchObject({ operation: 'updateTaskStatus', entity_id: parent });
    expect(moved.row.changes.status).toEqual({ before: 'pending', after: 'in_progress' });
    // a repeated move changes nothing and writes no row
    const again = await t.gql(`mutation($id: UUID!) { updateTaskStatus(input: { id: $id, status: IN_PROGRESS }) { id } }`, { id: parent });
    expect(again.body.errors).toBeUndefined();
    expect(await t.db.query(`SELECT id FROM audit_log WHERE operation = 'updateTaskStatus'`)).toHaveLength(1);

    const execution = (
      await t.gql(`mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "codegen" }) { id } }`, { id: parent })
    ).body.data.startExecution.id;
    const appended = await mutate(`mutation($id: UUID!, $e: [JSON!]!) { appendExecutionLog(input: { id: $id, entries: $e }) { id } }`, {
      id: execution,
      e: ['a', { b: 1 }],
    });
    expect(appended.row).toMatchObject({
      operation: 'appendExecutionLog',
      entity: 'task_execution',
      entity_id: execution,
      changes: { logs: { appended: 2 } },
    });
    const finished = await mutate(`mutation($id: UUID!) { finishExecution(input: { id: $id, status: FAILED }) { id } }`, { id: execution });
    expect(finished.row.changes.status).toEqual({ before: 'running', after: 'failed' });

    const metrics = await mutate(
      `mutation { recordMetrics(input: [{ category: "ci", name: "a", value: 1 }, { category: "ci", name: "b", value: 2 }]) { count } }`,
    );
    expect(metrics.row).toMatchObject({
      operation: 'recordMetrics',
      entity: 'system_metric',
      entity_id: null,
      changes: { count: { before: null, after: 2 } },
    });

    const integration = (
      await t.gql(
        `mutation { createIntegration(input: { type: GITHUB, name: "gh", configuration: { token: "ghp_x0123456789abcdef" } }) { id } }`,
      )
    ).body.data.createIntegration.id;
    const disabled = await mutate(`mutation($id: UUID!) { disableIntegration(input: { id: $id }) { id } }`, { id: integration });
    expect(disabled.row).toMatchObject({ operation: 'disableIntegration', changes: { status: { before: 'active', after: 'disabled' } } });
    const enabled = await mutate(`mutation($id: UUID!) { enableIntegration(input: { id: $id }) { id } }`, { id: integration });
    expect(enabled.row.operation).toBe('enableIntegration');
    const deleted = await mutate(`mutation($id: UUID!) { deleteIntegration(input: { id: $id }) { id } }`, { id: integration });
    expect(deleted.row).toMatchObject({ operation: 'deleteIntegration', entity_id: integration });
    expect(deleted.row.changes.name).toEqual({ before: 'gh', after: null });
    expect(JSON.stringify(await t.db.query('SELECT changes FROM audit_log'))).not.toContain('ghp_x0123456789abcdef');
  });

  it('writes nothing when one of them fails', async () => {
    const before = await t.db.query(`SELECT count(*)::int AS n FROM audit_log`);
    const unknown = '3f1c2a7e-9b0d-4c5e-8f6a-1b2c3d4e5f60';
    for (const query of [
      `mutation { createSubtask(input: { parentId: "${unknown}", title: "orphan" }) { id } }`,
      `mutation { updateTaskStatus(input: { id: "${unknown}", status: CANCELLED }) { id } }`,
      `mutation { appendExecutionLog(input: { id: "${unknown}", entries: ["x"] }) { id } }`,
      `mutation { disableIntegration(input: { id: "${unknown}" }) { id } }`,
      `mutation { deleteIntegration(input: { id: "${unknown}" }) { id } }`,
      `mutation { recordMetrics(input: [{ category: "ci", name: "a", value: 1 }, { category: "", name: "b", value: 1e20 }]) { count } }`,
    ]) {
      expect((await t.gql(query)).body.errors?.length).toBeGreaterThan(0);
    }
    expect(await t.db.query(`SELECT count(*)::int AS n FROM audit_log`)).toEqual(before);
  });
});
