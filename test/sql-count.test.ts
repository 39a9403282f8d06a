import { startTestGateway, type TestGateway } from './support/gateway';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

describe('SQL statement count per request', () => {
  it('reports the statements a request issued in X-SQL-Statements, batching parents through one loader query', async () => {
    const parent = await t.gql(`mutation { createTask(input: { title: "parent" }) { id } }`);
    const parentId = parent.body.data.createTask.id;
    for (let i = 0; i < 5; i++) {
      await t.gql(`mutation($p: UUID!) { createTask(input: { title: "child", parentTaskId: $p }) { id } }`, { p: parentId });
    }
    const res = await t.gql(`{ tasks(first: 10) { nodes { id parent { id title } } } }`);
    expect(res.body.errors).toBeUndefined();
    // one statement for the list, one batched statement for all the parents
    expect(res.headers.get('x-sql-statements')).toBe('2');
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
