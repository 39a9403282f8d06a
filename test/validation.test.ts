import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * Bad input gets a GraphQL error with a code and a message naming the field, and changes nothing:
 * each case compares a snapshot of every table before and after.
 */
let t: TestGateway;
let existingTaskId: string;
let existingExecutionId: string;
let existingIntegrationId: string;

beforeAll(async () => {
  t = await startTestGateway();
  existingTaskId = (await t.gql(`mutation { createTask(input: { title: "existing", priority: 1 }) { id } }`)).body.data.createTask.id;
  existingExecutionId = (
    await t.gql(`mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "codegen" }) { id } }`, { id: existingTaskId })
  ).body.data.startExecution.id;
  existingIntegrationId = (
    await t.gql(`mutation { createIntegration(input: { type: GITHUB, name: "gh", configuration: { token: "x" } }) { id } }`)
  ).body.data.createIntegration.id;
});
afterAll(() => t.close());

async function snapshot() {
  const tables = ['tasks', 'task_executions', 'external_integrations', 'system_metrics'];
  const out: Record<string, unknown[]> = {};
  for (const table of tables) out[table] = await t.db.query(`SELECT * FROM ${table} ORDER BY id`);
  return out;
}

const UNKNOWN = '3f1c2a7e-9b0d-4c5e-8f6a-1b2c3d4e5f60';

const cases: { name: string; query: string; variables?: () => Record<string, unknown>; code: string; field: RegExp }[] = [
  { name: 'an empty title', query: `mutation { createTask(input: { title: "" }) { id } }`, code: 'BAD_USER_INPUT', field: /title/ },
  { name: 'a blank title', query: `mutation { createTask(input: { title: "   " }) { id } }`, code: 'BAD_USER_INPUT', field: /title/ },
  {
    name: 'a title over 255 characters',
    query: `mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`,
    variables: () => ({ input: { title: 'x'.repeat(256) } }),
    code: 'BAD_USER_INPUT',
    field: /title/,
  },
  {
    name: 'a non-integer priority (variable)',
    query: `mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`,
    variables: () => ({ input: { title: 'ok', priority: 1.5 } }),
    code: 'BAD_USER_INPUT',
    field: /priority/,
  },
  {
    name: 'a non-integer priority (literal)',
    query: `mutation { createTask(input: { title: "ok", priority: "high" }) { id } }`,
    code: 'GRAPHQL_VALIDATION_FAILED',
    field: /priority|Int/,
  },
  {
    name: 'a JSON array where an object is required',
    query: `mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`,
    variables: () => ({ input: { title: 'ok', requirements: ['a', 'b'] } }),
    code: 'BAD_USER_INPUT',
    field: /requirements/,
  },
  {
    name: 'a JSON string where an object is required',
    query: `mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`,
    variables: () => ({ input: { title: 'ok', metadata: 'not an object' } }),
    code: 'BAD_USER_INPUT',
    field: /metadata/,
  },
  {
    name: 'acceptanceCriteria that is not an array',
    query: `mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`,
    variables: () => ({ input: { title: 'ok', acceptanceCriteria: { a: 1 } } }),
    code: 'BAD_USER_INPUT',
    field: /acceptanceCriteria/,
  },
  {
    name: 'an unknown parent',
    query: `mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`,
    variables: () => ({ input: { title: 'ok', parentTaskId: UNKNOWN } }),
    code: 'BAD_USER_INPUT',
    field: /parentTaskId/,
  },
  {
    name: 'a malformed UUID (variable)',
    query: `mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id } }`,
    variables: () => ({ input: { id: 'not-a-uuid', title: 'x' } }),
    code: 'BAD_USER_INPUT',
    field: /id/,
  },
  {
    name: 'a malformed UUID (literal)',
    query: `mutation { deleteTask(input: { id: "123" }) { id } }`,
    code: 'GRAPHQL_VALIDATION_FAILED',
    field: /UUID|id/,
  },
  {
    name: 'an unknown task id on update',
    query: `mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id } }`,
    variables: () => ({ input: { id: UNKNOWN, title: 'x' } }),
    code: 'NOT_FOUND',
    field: /id/,
  },
  {
    name: 'an unknown task id on delete',
    query: `mutation { deleteTask(input: { id: "${UNKNOWN}" }) { id } }`,
    code: 'NOT_FOUND',
    field: /id/,
  },
  {
    name: 'a null title on update',
    query: `mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id } }`,
    variables: () => ({ input: { id: existingTaskId, title: null } }),
    code: 'BAD_USER_INPUT',
    field: /title/,
  },
  {
    name: 'an illegal status move',
    query: `mutation($input: UpdateTaskInput!) { updateTask(input: $input) { id } }`,
    variables: () => ({ input: { id: existingTaskId, status: 'COMPLETED', title: 'renamed' } }),
    code: 'BAD_USER_INPUT',
    field: /status/,
  },
  {
    name: 'an execution on an unknown task',
    query: `mutation { startExecution(input: { taskId: "${UNKNOWN}", agentType: "codegen" }) { id } }`,
    code: 'NOT_FOUND',
    field: /taskId/,
  },
  {
    name: 'an agentType over 50 characters',
    query: `mutation($id: UUID!, $a: String!) { startExecution(input: { taskId: $id, agentType: $a }) { id } }`,
    variables: () => ({ id: existingTaskId, a: 'a'.repeat(51) }),
    code: 'BAD_USER_INPUT',
    field: /agentType/,
  },
  {
    name: 'finishing an execution as RUNNING',
    query: `mutation($id: UUID!) { finishExecution(input: { id: $id, status: RUNNING }) { id } }`,
    variables: () => ({ id: existingExecutionId }),
    code: 'BAD_USER_INPUT',
    field: /status/,
  },
  {
    name: 'an integration of an unknown type',
    query: `mutation { createIntegration(input: { type: GITLAB, name: "x", configuration: {} }) { id } }`,
    code: 'GRAPHQL_VALIDATION_FAILED',
    field: /GITLAB|type/,
  },
  {
    name: 'an integration configuration that is not an object',
    query: `mutation($c: JSONObject!) { createIntegration(input: { type: GITHUB, name: "x", configuration: $c }) { id } }`,
    variables: () => ({ c: [1, 2] }),
    code: 'BAD_USER_INPUT',
    field: /\$c|configuration/,
  },
  {
    name: 'a rate limit of zero',
    query: `mutation($id: UUID!) { updateIntegration(input: { id: $id, rateLimitPerMinute: 0 }) { id } }`,
    variables: () => ({ id: existingIntegrationId }),
    code: 'BAD_USER_INPUT',
    field: /rateLimitPerMinute/,
  },
  {
    name: 'an unknown integration id',
    query: `mutation { updateIntegration(input: { id: "${UNKNOWN}", name: "x" }) { id } }`,
    code: 'NOT_FOUND',
    field: /id/,
  },
  {
    name: 'a metric value beyond DECIMAL(15,6)',
    query: `mutation { recordMetric(input: { category: "gateway", name: "x", value: 1e12 }) { id } }`,
    code: 'BAD_USER_INPUT',
    field: /value/,
  },
  {
    name: 'a metric unit over 20 characters',
    query: `mutation { recordMetric(input: { category: "gateway", name: "x", value: 1, unit: "${'u'.repeat(21)}" }) { id } }`,
    code: 'BAD_USER_INPUT',
    field: /unit/,
  },
  { name: 'a list size over the maximum', query: `{ tasks(first: 101) { nodes { id } } }`, code: 'BAD_USER_INPUT', field: /first/ },
];

describe('bad input', () => {
  it.each(cases)('$name → $code naming the field, nothing changed', async ({ query, variables, code, field }) => {
    const before = await snapshot();
    const res = await t.gql(query, variables?.());
    expect(res.body.errors).toHaveLength(1);
    const [error] = res.body.errors!;
    expect(error.extensions?.code).toBe(code);
    expect(error.message).toMatch(field);
    expect(error.message).not.toMatch(/QueryFailedError|SELECT|INSERT|at .*\.ts/);
    expect(res.body.data?.createTask ?? null).toBeNull();
    expect(await snapshot()).toEqual(before);
  });
});
