import { startTestGateway, type TestGateway } from './support/gateway';

/*
 * Relay global ids: Task, TaskExecution, ExternalIntegration and SystemMetric implement Node; the
 * global id is the row's UUID. node(id:) and nodes(ids:) find a row in whichever table holds it:
 * one statement to learn the types, then one statement per type present.
 */
let t: TestGateway;
let ids: { task: string; execution: string; integration: string; metric: string; task2: string };
beforeAll(async () => {
  t = await startTestGateway();
  const task = (await t.gql('mutation { createTask(input: { title: "node one" }) { id } }')).body.data.createTask.id;
  const task2 = (await t.gql('mutation { createTask(input: { title: "node two" }) { id } }')).body.data.createTask.id;
  const execution = (
    await t.gql('mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "codegen" }) { id } }', { id: task })
  ).body.data.startExecution.id;
  const integration = (
    await t.gql(
      'mutation { createIntegration(input: { name: "gh", type: GITHUB, configuration: { url: "https://api.github.com" } }) { id } }',
    )
  ).body.data.createIntegration.id;
  const metric = (await t.gql('mutation { recordMetric(input: { name: "cpu", category: "gateway", value: 1.5 }) { id } }')).body.data
    .recordMetric.id;
  ids = { task, task2, execution, integration, metric };
});
afterAll(() => t.close());

const NODE_FIELDS = `__typename id ... on Task { title } ... on TaskExecution { agentType } ... on ExternalIntegration { name } ... on SystemMetric { name value }`;

it('refetches each kind of object by its id, which is the id clients already read', async () => {
  for (const [id, expected] of [
    [ids.task, { __typename: 'Task', id: ids.task, title: 'node one' }],
    [ids.execution, { __typename: 'TaskExecution', id: ids.execution, agentType: 'codegen' }],
    [ids.integration, { __typename: 'ExternalIntegration', id: ids.integration, name: 'gh' }],
    [ids.metric, { __typename: 'SystemMetric', id: ids.metric, name: 'cpu', value: 1.5 }],
  ] as const) {
    const res = await t.gql(`query($id: ID!) { node(id: $id) { ${NODE_FIELDS} } }`, { id });
    expect(res.body).toEqual({ data: { node: expected }, extensions: expect.anything() });
  }
  // The same value the UUID-typed arguments take.
  const viaTask = await t.gql('query($id: UUID!) { task(id: $id) { id } }', { id: ids.task });
  expect(viaTask.body.data.task.id).toBe(ids.task);
});

it('answers nodes in the order asked, null for ids that name nothing, with one statement per type plus one', async () => {
  const asked = [ids.metric, ids.task, '00000000-0000-0000-0000-000000000000', ids.execution, 'not-a-uuid', ids.task2, ids.integration];
  const res = await t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }`, { ids: asked });
  expect(res.body.errors).toBeUndefined();
  expect(res.body.data.nodes).toEqual([
    { __typename: 'SystemMetric', id: ids.metric },
    { __typename: 'Task', id: ids.task },
    null,
    { __typename: 'TaskExecution', id: ids.execution },
    null,
    { __typename: 'Task', id: ids.task2 },
    { __typename: 'ExternalIntegration', id: ids.integration },
  ]);
  // 1 (which table) + 4 (one per type; the two tasks share one)
  expect(res.headers.get('x-sql-statements')).toBe('5');
});

it('refuses more than 100 ids with BAD_USER_INPUT', async () => {
  const res = await t.gql(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, { ids: Array.from({ length: 101 }, () => ids.task) });
  expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  expect(res.body.errors?.[0].message).toMatch(/ids: holds 101 items; at most 100/);
});
