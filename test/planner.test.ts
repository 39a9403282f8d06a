import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleOperations } from '../src/ide/examples';
import { seedDemoData } from '../src/seed/seed';
import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * The read planner (src/graphql/planner.ts): one SQL statement per read operation for the shapes
 * dashboards send (bench/queries/gateway.json) and for the IDE's prefilled tabs, with the same
 * answers as plain SQL gives, timestamps in DateTime's format, and the SQL it builds.
 */
let t: TestGateway;
const seen: string[] = [];
beforeAll(async () => {
  // every statement the gateway sends is captured here: no webhook dispatcher polling beside the requests
  t = await startTestGateway({ WEBHOOK_DISPATCH_ENABLED: 'false' });
  await seedDemoData(t.gateway.dataSource);
  const logger = t.gateway.dataSource.logger;
  const original = logger.logQuery.bind(logger);
  logger.logQuery = (query, parameters, runner) => {
    seen.push(query);
    return original(query, parameters, runner);
  };
}, 120_000);
afterAll(() => t.close());

const bench = JSON.parse(readFileSync(join(__dirname, '..', 'bench', 'queries', 'gateway.json'), 'utf8')).shapes;

async function one(query: string, variables?: Record<string, unknown>) {
  seen.length = 0;
  const res = await t.gql(query, variables);
  expect(res.body.errors).toBeUndefined();
  expect(res.headers.get('x-sql-statements')).toBe('1');
  expect(seen).toHaveLength(1);
  return { data: res.body.data, sql: seen[0] };
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

describe('one statement per read operation', () => {
  it('list: 50 pending tasks by priority, as plain SQL orders them', async () => {
    const { data, sql } = await one(bench.list.query);
    const rows = await t.db.query(
      `SELECT id, title, priority, created_at FROM tasks WHERE status = 'pending' ORDER BY priority DESC NULLS FIRST, id DESC LIMIT 50`,
    );
    expect(data.tasks.nodes).toEqual(
      rows.map((r) => ({ id: r.id, title: r.title, status: 'PENDING', priority: r.priority, createdAt: iso(r.created_at) })),
    );
    expect(sql).toMatch(/LEFT JOIN LATERAL/); // the planner's statement (rows at the root, no JSON: no relation selected)
  });

  it('nested: tasks with their executions', async () => {
    const { data } = await one(bench.nested.query);
    const withRuns = data.tasks.nodes.filter((n: any) => n.executions.nodes.length > 0);
    expect(withRuns.length).toBeGreaterThan(0);
    for (const task of withRuns) {
      const rows = await t.db.query(
        `SELECT id, status, agent_type, created_at FROM task_executions WHERE task_id = $1 ORDER BY created_at DESC NULLS FIRST, id DESC LIMIT 10`,
        [task.id],
      );
      expect(task.executions.nodes).toEqual(
        rows.map((r) => ({ id: r.id, status: r.status.toUpperCase(), agentType: r.agent_type, createdAt: iso(r.created_at) })),
      );
    }
  });

  it('byId: a task, its parent, its executions and their count', async () => {
    const [sub] = await t.db.query(`SELECT t.id, p.title AS parent FROM tasks t JOIN tasks p ON p.id = t.parent_task_id
      WHERE EXISTS (SELECT 1 FROM task_executions e WHERE e.task_id = p.id) ORDER BY t.id LIMIT 1`);
    const [parentOfSub] = await t.db.query(`SELECT parent_task_id AS id FROM tasks WHERE id = $1`, [sub.id]);
    const query = bench.byId.query.replace('executions(first: 10) {', 'executions(first: 10) { totalCount');
    const { data } = await one(query, { id: parentOfSub.id });
    const [{ count }] = await t.db.query(`SELECT count(*)::int AS count FROM task_executions WHERE task_id = $1`, [parentOfSub.id]);
    expect(data.task.executions.totalCount).toBe(count);
    expect(data.task.executions.nodes).toHaveLength(Math.min(count, 10));
    const child = await one(bench.byId.query, { id: sub.id });
    expect(child.data.task.parent).toEqual({ title: sub.parent });
    // a missing task is null, still one statement
    const missing = await one(bench.byId.query, { id: '00000000-0000-4000-8000-000000000000' });
    expect(missing.data.task).toBeNull();
  });

  it("the IDE's prefilled read tabs", async () => {
    for (const op of exampleOperations(new Date()).filter((o) => o.query.startsWith('query') && o.query.includes('task'))) {
      const { data } = await one(op.query, op.variables);
      expect([op.title, JSON.stringify(data).length > 20]).toEqual([op.title, true]);
    }
  });

  it('execution(id) with its task, and executions with totalCount', async () => {
    const [e] = await t.db.query(`SELECT e.id, t.title FROM task_executions e JOIN tasks t ON t.id = e.task_id LIMIT 1`);
    const { data } = await one(`query($id: UUID!) { execution(id: $id) { id task { title executionCount } } }`, { id: e.id });
    expect(data.execution.task.title).toBe(e.title);
    const list = await one(`{ executions(first: 3) { totalCount nodes { id task { id } } } }`);
    const [{ count }] = await t.db.query(`SELECT count(*)::int AS count FROM task_executions`);
    expect(list.data.executions.totalCount).toBe(count);
  });

  it('keyset paging through a planned nested connection gives what Query.executions gives', async () => {
    const [{ id }] = await t.db.query(`SELECT task_id AS id FROM task_executions GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`);
    const first = await one(
      `query($id: UUID!) { task(id: $id) { executions(first: 1) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } } }`,
      { id },
    );
    const { endCursor } = first.data.task.executions.pageInfo;
    const next = await one(
      `query($id: UUID!, $c: String) { task(id: $id) { executions(first: 1, after: $c) { nodes { id } pageInfo { hasPreviousPage } } } }`,
      { id, c: endCursor },
    );
    const direct = await t.gql(
      `query($c: String, $id: UUID) { executions(first: 1, after: $c, filter: { taskId: $id }) { nodes { id } } }`,
      { c: endCursor, id },
    );
    expect(next.data.task.executions.nodes).toEqual(direct.body.data.executions.nodes);
    expect(next.data.task.executions.pageInfo.hasPreviousPage).toBe(true);
    expect(first.data.task.executions.edges[0].cursor).toBe(endCursor);
  });
});

describe('what PostgreSQL builds', () => {
  it("timestamps in the DateTime scalar's format, equal to what a mutation (a Date) returns", async () => {
    const created = await t.gql(`mutation { createTask(input: { title: "planner time" }) { id createdAt } }`);
    const { id, createdAt } = created.body.data.createTask;
    expect(createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const { data, sql } = await one(`query($id: UUID!) { task(id: $id) { createdAt updatedAt completedAt } }`, { id });
    expect(data.task).toEqual({ createdAt, updatedAt: expect.stringMatching(/Z$/), completedAt: null });
    expect(sql).toMatch(/to_char\(t\."created_at" AT TIME ZONE 'UTC'/);
  });

  it('JSONB comes back as the stored JSON', async () => {
    const requirements = { a: [1, 2.5, 'x', null, { b: true }], 'key with "quotes"': 'é\n' };
    const created = await t.gql(`mutation($r: JSONObject) { createTask(input: { title: "json", requirements: $r }) { id } }`, {
      r: requirements,
    });
    const { data } = await one(`query($id: UUID!) { task(id: $id) { requirements acceptanceCriteria } }`, {
      id: created.body.data.createTask.id,
    });
    expect(data.task).toEqual({ requirements, acceptanceCriteria: [] });
  });

  it('builds one SELECT: relations as correlated subqueries aggregated to JSON, parameters for every value', async () => {
    const { sql } = await one(
      `{ tasks(first: 2, filter: { search: "x' OR 1=1 --" }) { totalCount nodes { id parent { title } executions(first: 3) { totalCount nodes { id } } executionCount } } }`,
    );
    // the root's rows as rows, with totalCount from a one-row join (an empty page keeps it)
    expect(sql).toMatch(
      /^SELECT r\.\*, c\."\$total" FROM \(SELECT \(SELECT count\(\*\)::int FROM tasks t WHERE .*\) AS "\$total"\) c LEFT JOIN LATERAL \(SELECT r0\.\*, /,
    );
    expect(sql).toMatch(/\(SELECT row_to_json\(j\) FROM \(SELECT .* FROM tasks t WHERE t\.id = r0\."parentTaskId"\) j\) AS "@parent"/);
    expect(sql).toMatch(/e\.task_id = r0\."id"/);
    expect(sql).toMatch(/AS "#executions"/);
    expect(sql).toMatch(/AS "@executionCount"/);
    expect(sql).toMatch(/\) r ON TRUE$/);
    expect(sql).not.toMatch(/OR 1=1/);
    // neither cursors nor hasNextPage read: no cursor columns, no row beyond each page
    expect(sql).not.toMatch(/__k0/);
    expect(sql).toMatch(/LIMIT 3\)/);
    expect(sql).toMatch(/LIMIT 2\)/);
    const paged = await one(`{ tasks(first: 2) { pageInfo { hasNextPage endCursor } nodes { id } } }`);
    expect(paged.sql).toMatch(/AS "__k0"/);
    expect(paged.sql).toMatch(/LIMIT 3\)/);
  });

  it('an empty page still has its totalCount; a relation aliased `total` keeps its own', async () => {
    const [{ n }] = await t.db.query(`SELECT count(*)::int AS n FROM tasks`);
    const BY_AGE = `orderBy: [{ field: CREATED_AT, direction: DESC }]`;
    const all = await one(`{ tasks(first: 100, ${BY_AGE}) { nodes { id } pageInfo { endCursor hasNextPage } } }`);
    expect(all.data.tasks.nodes).toHaveLength(n); // the whole table: after its last cursor, nothing
    const empty = await one(
      `query($after: String) { tasks(first: 5, after: $after, ${BY_AGE}) { totalCount nodes { id } pageInfo { hasNextPage } } }`,
      {
        after: all.data.tasks.pageInfo.endCursor,
      },
    );
    expect(empty.data.tasks).toEqual({ totalCount: n, nodes: [], pageInfo: { hasNextPage: false } });
    const aliased = await one(
      `{ tasks(first: 3, filter: { isRoot: true }) { totalCount nodes { id total: subtasks(first: 1) { totalCount } } } }`,
    );
    const [{ roots }] = await t.db.query(`SELECT count(*)::int AS roots FROM tasks WHERE parent_task_id IS NULL`);
    expect(aliased.data.tasks.totalCount).toBe(roots);
    for (const node of aliased.data.tasks.nodes) {
      const [{ subs }] = await t.db.query(`SELECT count(*)::int AS subs FROM tasks WHERE parent_task_id = $1`, [node.id]);
      expect(node.total.totalCount).toBe(subs);
    }
  });
});

describe('errors and fallbacks keep their place', () => {
  it('a nested argument error is reported at the nested field, the rest of the answer stays', async () => {
    const res = await t.gql(`{ tasks(first: 2) { nodes { id executions(first: 1000) { nodes { id } } } } }`);
    expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.body.errors?.[0].path).toEqual(['tasks', 'nodes', 0, 'executions']);
  });

  it("a planned relation with a filter still goes through type-graphql's argument validation", async () => {
    const many = Array.from({ length: 101 }, (_, i) => `agent${i}`);
    const res = await t.gql(
      `query($a: [String!]) { tasks(first: 2) { nodes { id executions(first: 2, filter: { agentType: $a }) { nodes { id } } } } }`,
      { a: many },
    );
    expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.body.errors?.[0].path).toEqual(['tasks', 'nodes', 0, 'executions']);
    // within the rules: planned (the type-graphql resolver reads the planned value), one statement
    const { data, sql } = await one(
      `{ tasks(first: 2) { nodes { executions(first: 2, filter: { agentType: ["codegen"] }) { nodes { agentType } } } } }`,
    );
    expect(sql).toMatch(/AS "\?executions"/);
    expect(data.tasks.nodes.flatMap((n: any) => n.executions.nodes).every((e: any) => e.agentType === 'codegen')).toBe(true);
  });
});
