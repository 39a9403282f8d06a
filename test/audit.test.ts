import { startTestGateway, type TestGateway } from './support/gateway';

let t: TestGateway;
let operatorToken: string;
let operatorId: string;
beforeAll(async () => {
  t = await startTestGateway();
  ({ token: operatorToken, id: operatorId } = await t.token('operator' as any, { name: 'agent-7' }));
});
afterAll(() => t.close());

const asOperator = { authorization: '' };
async function auditRows() {
  return t.db.query(`SELECT * FROM audit_log ORDER BY occurred_at, id`);
}

/** Runs a mutation that must succeed and returns the audit rows it added (and the response). */
async function mutate(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const before = (await auditRows()).length;
  const requestId = `req-${Math.random().toString(36).slice(2)}`;
  const res = await t.gql(query, variables, { 'x-request-id': requestId, ...headers });
  expect(res.body.errors).toBeUndefined();
  const rows = (await auditRows()).slice(before);
  return { res, rows, requestId };
}

describe('audit trail', () => {
  it('writes one row per mutation: who, what, which record, changed fields and the request id', async () => {
    asOperator.authorization = `Bearer ${operatorToken}`;
    const created = await mutate(`mutation { createTask(input: { title: "audited", priority: 2 }) { id } }`, {}, asOperator);
    const taskId = created.res.body.data.createTask.id;
    expect(created.rows).toHaveLength(1);
    expect(created.rows[0]).toMatchObject({
      actor_kind: 'token',
      actor_id: operatorId,
      actor_name: 'agent-7',
      actor_role: 'operator',
      operation: 'createTask',
      entity: 'task',
      entity_id: taskId,
      request_id: created.requestId,
    });
    expect(created.rows[0].changes.title).toEqual({ before: null, after: 'audited' });

    const updated = await mutate(
      `mutation($id: UUID!) { updateTask(input: { id: $id, priority: 5, status: IN_PROGRESS }) { id } }`,
      { id: taskId },
      asOperator,
    );
    expect(updated.rows).toHaveLength(1);
    expect(updated.rows[0]).toMatchObject({ operation: 'updateTask', entity_id: taskId });
    expect(updated.rows[0].changes).toMatchObject({
      priority: { before: 2, after: 5 },
      status: { before: 'pending', after: 'in_progress' },
    });
    expect(updated.rows[0].changes.title).toBeUndefined(); // unchanged fields are left out

    const started = await mutate(
      `mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "codegen" }) { id } }`,
      { id: taskId },
      asOperator,
    );
    const executionId = started.res.body.data.startExecution.id;
    expect(started.rows[0]).toMatchObject({ operation: 'startExecution', entity: 'task_execution', entity_id: executionId });
    const finished = await mutate(
      `mutation($id: UUID!) { finishExecution(input: { id: $id, status: SUCCEEDED }) { id } }`,
      { id: executionId },
      asOperator,
    );
    expect(finished.rows[0]).toMatchObject({ operation: 'finishExecution', entity_id: executionId });
    expect(finished.rows[0].changes.status).toEqual({ before: 'running', after: 'succeeded' });

    const metric = await mutate(
      `mutation { recordMetric(input: { category: "ci", name: "build_seconds", value: 12.5 }) { id } }`,
      {},
      asOperator,
    );
    expect(metric.rows[0]).toMatchObject({
      operation: 'recordMetric',
      entity: 'system_metric',
      entity_id: metric.res.body.data.recordMetric.id,
    });

    const deleted = await mutate(`mutation($id: UUID!) { deleteTask(input: { id: $id }) { id } }`, { id: taskId }, asOperator);
    expect(deleted.rows[0]).toMatchObject({ operation: 'deleteTask', entity_id: taskId });
    expect(deleted.rows[0].changes.title).toEqual({ before: 'audited', after: null });
  });

  it("records the server's own request id beside the client's: two principals sending one id stay apart", async () => {
    const shared = 'shared-id-42';
    const other = await t.token('operator' as any, { name: 'agent-8' });
    const CREATE = `mutation($title: String!) { createTask(input: { title: $title }) { id } }`;
    const before = (await auditRows()).length;
    const admin = await t.gql(CREATE, { title: 'by admin' }, { 'x-request-id': shared });
    const operator = await t.gql(CREATE, { title: 'by operator' }, { 'x-request-id': shared, authorization: `Bearer ${other.token}` });
    expect(admin.headers.get('x-request-id')).toBe(shared);
    expect(operator.headers.get('x-request-id')).toBe(shared);
    const rows = (await auditRows()).slice(before);
    expect(rows.map((r) => r.request_id)).toEqual([shared, shared]);
    const [a, b] = rows.map((r) => r.server_request_id as string);
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(b).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
    // an id with a space or over 128 characters is not taken: the server's id is used for both
    for (const given of ['has space', 'x'.repeat(129), 'semi;colon']) {
      const res = await t.gql(CREATE, { title: 'bad id' }, { 'x-request-id': given });
      const made = res.headers.get('x-request-id');
      expect(made).toMatch(/^[0-9a-f-]{36}$/);
      const [row] = await t.db.query(`SELECT request_id, server_request_id FROM audit_log WHERE entity_id = $1`, [
        res.body.data.createTask.id,
      ]);
      expect(row).toEqual({ request_id: made, server_request_id: made });
    }
    // and both are read through auditLog
    const read = await t.gql(
      `query($r: String) { auditLog(first: 5, filter: { requestId: $r }) { nodes { requestId serverRequestId } } }`,
      { r: shared },
    );
    expect(read.body.data.auditLog.nodes.map((n: { serverRequestId: string }) => n.serverRequestId).sort()).toEqual([a, b].sort());
  });

  it('audits integration and token mutations with secrets masked', async () => {
    const created = await mutate(
      `mutation { createIntegration(input: { type: GITHUB, name: "gh", configuration: { token: "ghp_auditsecret0123456789" } }) { id } }`,
    );
    const id = created.res.body.data.createIntegration.id;
    expect(created.rows[0]).toMatchObject({
      operation: 'createIntegration',
      entity: 'external_integration',
      entity_id: id,
      actor_role: 'admin',
    });
    expect(created.rows[0].changes.configuration).toEqual({ before: null, after: '[secret]' });
    const updated = await mutate(
      `mutation($id: UUID!) { updateIntegration(input: { id: $id, configuration: { token: "ghp_othersecret0123456789" }, rateLimitPerMinute: 5 }) { id } }`,
      { id },
    );
    expect(updated.rows[0].changes.rateLimitPerMinute).toEqual({ before: 60, after: 5 });
    expect(JSON.stringify(await auditRows())).not.toMatch(/auditsecret|othersecret/);

    const token = await mutate(`mutation { createApiToken(input: { name: "bot", role: VIEWER }) { token apiToken { id } } }`);
    const secret = token.res.body.data.createApiToken.token;
    expect(token.rows[0]).toMatchObject({
      operation: 'createApiToken',
      entity: 'api_token',
      entity_id: token.res.body.data.createApiToken.apiToken.id,
    });
    expect(token.rows[0].changes.tokenHash).toEqual({ before: null, after: '[secret]' });
    expect(JSON.stringify(token.rows)).not.toContain(secret);
    const revoked = await mutate(`mutation($id: UUID!) { revokeApiToken(input: { id: $id }) { id } }`, {
      id: token.res.body.data.createApiToken.apiToken.id,
    });
    expect(revoked.rows[0]).toMatchObject({ operation: 'revokeApiToken' });
  });

  it('writes nothing for a mutation that fails', async () => {
    const before = await auditRows();
    const failures = [
      `mutation { createTask(input: { title: "" }) { id } }`,
      `mutation { updateTask(input: { id: "3f1c2a7e-9b0d-4c5e-8f6a-1b2c3d4e5f60", title: "x" }) { id } }`,
      `mutation { deleteTask(input: { id: "3f1c2a7e-9b0d-4c5e-8f6a-1b2c3d4e5f60" }) { id } }`,
      `mutation { startExecution(input: { taskId: "3f1c2a7e-9b0d-4c5e-8f6a-1b2c3d4e5f60", agentType: "x" }) { id } }`,
      `mutation { finishExecution(input: { id: "3f1c2a7e-9b0d-4c5e-8f6a-1b2c3d4e5f60", status: FAILED }) { id } }`,
      `mutation { updateIntegration(input: { id: "3f1c2a7e-9b0d-4c5e-8f6a-1b2c3d4e5f60", name: "x" }) { id } }`,
      `mutation { revokeApiToken(input: { id: "3f1c2a7e-9b0d-4c5e-8f6a-1b2c3d4e5f60" }) { id } }`,
    ];
    for (const query of failures) {
      const res = await t.gql(query);
      expect(res.body.errors?.length).toBeGreaterThan(0);
    }
    // A change that fails after its audit row was written inside the transaction: rolled back together.
    const parent = (await t.gql(`mutation { createTask(input: { title: "p" }) { id } }`)).body.data.createTask.id;
    await t.gql(`mutation($p: UUID!) { createTask(input: { title: "c", parentTaskId: $p }) { id } }`, { p: parent });
    const afterSetup = await auditRows();
    const refused = await t.gql(`mutation($id: UUID!) { deleteTask(input: { id: $id }) { id } }`, { id: parent });
    expect(refused.body.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(await auditRows()).toHaveLength(afterSetup.length);
    expect(afterSetup.length - before.length).toBe(2);
  });

  it('serves Query.auditLog to admins as a filtered, paginated connection', async () => {
    const page1 = await t.gql(
      `{ auditLog(first: 2, filter: { entity: "task" }) { totalCount edges { cursor node { operation entity actorId } } pageInfo { hasNextPage endCursor } } }`,
    );
    expect(page1.body.errors).toBeUndefined();
    const conn = page1.body.data.auditLog;
    expect(conn.edges).toHaveLength(2);
    expect(conn.totalCount).toBeGreaterThan(2);
    expect(conn.pageInfo.hasNextPage).toBe(true);
    expect(conn.edges.every((e: any) => e.node.entity === 'task')).toBe(true);
    const page2 = await t.gql(
      `query($after: String) { auditLog(first: 2, after: $after, filter: { entity: "task" }) { edges { cursor } } }`,
      { after: conn.pageInfo.endCursor },
    );
    const seen = new Set(conn.edges.map((e: any) => e.cursor));
    expect(page2.body.data.auditLog.edges.some((e: any) => seen.has(e.cursor))).toBe(false);

    const byActor = await t.gql(
      `query($a: String) { auditLog(first: 100, filter: { actorId: $a, operation: "createTask" }) { nodes { actorName operation } } }`,
      { a: operatorId },
    );
    expect(byActor.body.data.auditLog.nodes).toEqual([{ actorName: 'agent-7', operation: 'createTask' }]);

    const bad = await t.gql(`{ auditLog(after: "nonsense") { totalCount } }`);
    expect(bad.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });

    const asOp = await t.gql(`{ auditLog { totalCount } }`, undefined, { authorization: `Bearer ${operatorToken}` });
    expect(asOp.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});
