import { startTestGateway, type TestGateway } from './support/gateway';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

describe('SQL statement count per request', () => {
  it('reports the statements a request issued in X-SQL-Statements: a planned read is one', async () => {
    const parent = await t.gql(`mutation { createTask(input: { title: "parent" }) { id } }`);
    const parentId = parent.body.data.createTask.id;
    for (let i = 0; i < 5; i++) {
      await t.gql(`mutation($p: UUID!) { createTask(input: { title: "child", parentTaskId: $p }) { id } }`, { p: parentId });
    }
    const res = await t.gql(`{ tasks(first: 10) { nodes { id parent { id title } } } }`);
    expect(res.body.errors).toBeUndefined();
    // the list and all the parents: one planned statement
    expect(res.headers.get('x-sql-statements')).toBe('1');
    expect(res.body.data.tasks.nodes.filter((n: any) => n.parent?.id === parentId)).toHaveLength(5);
    // What the planner leaves out goes through the loaders, one batched statement per relation and
    // arguments: here one response key with two different arguments (under nodes and edges.node).
    const mixed = await t.gql(
      `{ tasks(first: 10) { nodes { id subtasks(first: 1) { nodes { id } } } edges { node { subtasks(first: 2) { nodes { id } } } } } }`,
    );
    expect(mixed.body.errors).toBeUndefined();
    expect(mixed.headers.get('x-sql-statements')).toBe('3');
    const i = mixed.body.data.tasks.nodes.findIndex((n: any) => n.id === parentId);
    expect(mixed.body.data.tasks.nodes[i].subtasks.nodes).toHaveLength(1);
    expect(mixed.body.data.tasks.edges[i].node.subtasks.nodes).toHaveLength(2);
  });

  it('is not sent in production', async () => {
    const prod = await startTestGateway({ NODE_ENV: 'production', DB_RUN_MIGRATIONS: 'true' });
    try {
      const res = await prod.gql(`{ tasks { nodes { id } } }`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-sql-statements')).toBeNull();
    } finally {
      await prod.close();
    }
  });
});
