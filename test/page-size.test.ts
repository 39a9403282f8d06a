import { loadConfig } from '../src/config';
import { MAX_PAGE_SIZE } from '../src/config/page-size';
import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * GRAPHQL_DEFAULT_PAGE_SIZE is the number of rows a list or connection returns when asked without
 * first/last — at the root, nested (planned into one statement, or through the loaders), in the
 * plain lists and the audit log — and the page size the cost limit assumes for it.
 */
const PAGE = 3;
let t: TestGateway;

beforeAll(async () => {
  t = await startTestGateway({ GRAPHQL_DEFAULT_PAGE_SIZE: String(PAGE) });
  // Through the API, so the audit log has rows too: a parent with 5 subtasks, 10 tasks in all.
  const parent = ok(await t.gql(`mutation { createTask(input: { title: "parent" }) { id } }`)).createTask.id;
  for (let i = 0; i < 5; i++)
    ok(await t.gql(`mutation($p: UUID!) { createSubtask(input: { parentId: $p, title: "sub" }) { id } }`, { p: parent }));
  for (let i = 0; i < 4; i++) ok(await t.gql(`mutation { createTask(input: { title: "root" }) { id } }`));
  await t.db.query(`INSERT INTO task_executions (task_id, agent_type) SELECT id, 'ci' FROM tasks, generate_series(1, 5)`);
  await t.db.query(`INSERT INTO external_integrations (integration_type, integration_name, configuration)
                    SELECT 'github', 'gh ' || i, '{}'::jsonb FROM generate_series(1, 5) AS i`);
  await t.db.query(
    `INSERT INTO system_metrics (metric_category, metric_name, metric_value) SELECT 'ci', 'n', i FROM generate_series(1, 5) AS i`,
  );
}, 60_000);
afterAll(() => t.close());

function ok(res: { body: { data?: any; errors?: unknown[] } }) {
  expect(res.body.errors).toBeUndefined();
  return res.body.data;
}

describe('GRAPHQL_DEFAULT_PAGE_SIZE', () => {
  it('is the page size of every connection and list asked without first/last', async () => {
    const data = ok(
      await t.gql(`{
        tasks { nodes { id } pageInfo { hasNextPage } }
        executions { nodes { id } }
        integrations { nodes { id } }
        metrics { id }
        auditLog { nodes { id } pageInfo { hasNextPage } }
      }`),
    );
    expect(data.tasks.nodes).toHaveLength(PAGE);
    expect(data.tasks.pageInfo.hasNextPage).toBe(true);
    expect(data.executions.nodes).toHaveLength(PAGE);
    expect(data.integrations.nodes).toHaveLength(PAGE);
    expect(data.metrics).toHaveLength(PAGE);
    expect(data.auditLog.nodes).toHaveLength(PAGE);
    expect(data.auditLog.pageInfo.hasNextPage).toBe(true);
  });

  it('applies to nested pages, planned into one statement or through the loaders', async () => {
    const plannedRes = await t.gql(
      `{ tasks(first: 10, filter: { isRoot: true }) { nodes { title subtasks { nodes { id } } executions { nodes { id } } } } }`,
    );
    expect(plannedRes.headers.get('x-sql-statements')).toBe('1');
    const planned = ok(plannedRes);
    const parent = planned.tasks.nodes.find((n: any) => n.title === 'parent');
    expect(parent.subtasks.nodes).toHaveLength(PAGE);
    for (const n of planned.tasks.nodes) expect(n.executions.nodes).toHaveLength(PAGE);
    // a fragment on another type makes the planner leave the root to the DataLoader path
    const loadedRes = await t.gql(
      `{ tasks(first: 10, filter: { isRoot: true }) { nodes { title subtasks { nodes { id } } executions { nodes { id } } ... on Node { id } } } }`,
    );
    expect(Number(loadedRes.headers.get('x-sql-statements'))).toBeGreaterThan(1);
    const loaded = ok(loadedRes);
    const parentLoaded = loaded.tasks.nodes.find((n: any) => n.title === 'parent');
    expect(parentLoaded.subtasks.nodes).toHaveLength(PAGE);
    for (const n of loaded.tasks.nodes) expect(n.executions.nodes).toHaveLength(PAGE);
  });

  it('pages on with the cursors at that size', async () => {
    const page1 = ok(await t.gql(`{ auditLog { nodes { id } pageInfo { endCursor } } }`)).auditLog;
    const page2 = ok(await t.gql(`query($a: String) { auditLog(after: $a) { nodes { id } } }`, { a: page1.pageInfo.endCursor })).auditLog;
    expect(page2.nodes).toHaveLength(PAGE);
    const ids = [...page1.nodes, ...page2.nodes].map((n: any) => n.id);
    const newest = await t.db.query(`SELECT id FROM audit_log ORDER BY occurred_at DESC, id DESC LIMIT ${2 * PAGE}`);
    expect(ids).toEqual(newest.map((r: { id: string }) => r.id));
  });

  it('is what the cost limit assumes', async () => {
    const res = await t.gql(`{ tasks { nodes { id } } }`);
    expect(res.body.extensions?.cost.requested).toBe(PAGE);
    const nested = await t.gql(`{ tasks { nodes { id executions { nodes { id } } } } }`);
    expect(nested.body.extensions?.cost.requested).toBe(PAGE * (1 + PAGE));
  });

  it('must lie between 1 and the maximum page size', () => {
    expect(() => loadConfig({ GRAPHQL_DEFAULT_PAGE_SIZE: String(MAX_PAGE_SIZE + 1) })).toThrow(/GRAPHQL_DEFAULT_PAGE_SIZE/);
    expect(() => loadConfig({ GRAPHQL_DEFAULT_PAGE_SIZE: '0' })).toThrow(/GRAPHQL_DEFAULT_PAGE_SIZE/);
  });
});
