import { startTestGateway, type TestGateway } from './support/gateway';

let t: TestGateway;
let taskId: string;
beforeAll(async () => {
  t = await startTestGateway();
  taskId = (await t.gql(`mutation { createTask(input: { title: "run me" }) { id } }`)).body.data.createTask.id;
});
afterAll(() => t.close());

describe('executions', () => {
  it('start RUNNING with startedAt, resolve their task, and finish exactly once', async () => {
    const started = await t.gql(
      `mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "claude", agentConfig: { model: "x" } }) { id status startedAt completedAt agentConfig logs task { id title } } }`,
      { id: taskId },
    );
    expect(started.body.errors).toBeUndefined();
    const execution = started.body.data.startExecution;
    expect(execution).toMatchObject({
      status: 'RUNNING',
      completedAt: null,
      agentConfig: { model: 'x' },
      logs: [],
      task: { id: taskId, title: 'run me' },
    });
    expect(execution.startedAt).not.toBeNull();

    const finished = await t.gql(
      `mutation($id: UUID!) { finishExecution(input: { id: $id, status: FAILED, errorDetails: { reason: "timeout" } }) { status errorDetails completedAt } }`,
      { id: execution.id },
    );
    expect(finished.body.data.finishExecution).toMatchObject({ status: 'FAILED', errorDetails: { reason: 'timeout' } });
    expect(finished.body.data.finishExecution.completedAt).not.toBeNull();

    const again = await t.gql(`mutation($id: UUID!) { finishExecution(input: { id: $id, status: SUCCEEDED }) { status } }`, {
      id: execution.id,
    });
    expect(again.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'id' });
    const [row] = await t.db.query('SELECT status, error_details FROM task_executions WHERE id = $1', [execution.id]);
    expect(row).toEqual({ status: 'failed', error_details: { reason: 'timeout' } });

    const list = await t.gql(`query($id: UUID!) { executions(filter: { taskId: $id }) { nodes { id } } }`, { id: taskId });
    expect(list.body.data.executions.nodes).toEqual([{ id: execution.id }]);
  });

  it('do not start on a final task', async () => {
    const done = (await t.gql(`mutation { createTask(input: { title: "cancel me" }) { id } }`)).body.data.createTask.id;
    await t.gql(`mutation($id: UUID!) { updateTask(input: { id: $id, status: CANCELLED }) { id } }`, { id: done });
    const res = await t.gql(`mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "codegen" }) { id } }`, { id: done });
    expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'taskId' });
    expect(await t.db.query('SELECT id FROM task_executions WHERE task_id = $1', [done])).toHaveLength(0);
  });
});

describe('integrations', () => {
  it('store the configuration but never return it', async () => {
    const secret = 'ghp_supersecret_0123456789';
    const created = await t.gql(
      `mutation($c: JSONObject!) { createIntegration(input: { type: GITHUB, name: "GitHub", configuration: $c }) { id type name status healthStatus rateLimitPerMinute } }`,
      { c: { token: secret, org: 'acme' } },
    );
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data.createIntegration).toMatchObject({
      type: 'GITHUB',
      name: 'GitHub',
      status: 'ACTIVE',
      healthStatus: 'UNKNOWN',
      rateLimitPerMinute: 60,
    });
    expect(JSON.stringify(created.body)).not.toContain(secret);

    const asked = await t.gql(`{ integrations { id configuration } }`);
    expect(asked.status).toBe(400);
    expect(asked.body.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');

    const id = created.body.data.createIntegration.id;
    const updated = await t.gql(
      `mutation($id: UUID!) { updateIntegration(input: { id: $id, status: DISABLED, healthStatus: DOWN, rateLimitPerMinute: 10 }) { status healthStatus rateLimitPerMinute } }`,
      { id },
    );
    expect(updated.body.data.updateIntegration).toEqual({ status: 'DISABLED', healthStatus: 'DOWN', rateLimitPerMinute: 10 });
    const [row] = await t.db.query('SELECT integration_type, status, configuration FROM external_integrations WHERE id = $1', [id]);
    expect(row).toMatchObject({ integration_type: 'github', status: 'disabled' });
    // encrypted at rest: the raw column holds ciphertext, not the secret
    expect(JSON.stringify(row.configuration)).not.toContain(secret);
  });
});

describe('metrics', () => {
  it('record a sample with DECIMAL(15,6) precision and list it by name', async () => {
    const res = await t.gql(
      `mutation { recordMetric(input: { category: "gateway", name: "latency_ms", value: 123.456789, unit: "ms", dimensions: { route: "/graphql" }, timestamp: "2026-01-02T03:04:05.000Z" }) { id category name value unit dimensions timestamp } }`,
    );
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.recordMetric).toMatchObject({
      category: 'gateway',
      name: 'latency_ms',
      value: 123.456789,
      unit: 'ms',
      dimensions: { route: '/graphql' },
      timestamp: '2026-01-02T03:04:05.000Z',
    });
    const [row] = await t.db.query('SELECT metric_value::text AS v FROM system_metrics WHERE id = $1', [res.body.data.recordMetric.id]);
    expect(row.v).toBe('123.456789');
    const list = await t.gql(`{ metrics(name: "latency_ms") { id } metric(id: "${res.body.data.recordMetric.id}") { value } }`);
    expect(list.body.data).toEqual({ metrics: [{ id: res.body.data.recordMetric.id }], metric: { value: 123.456789 } });
  });
});
