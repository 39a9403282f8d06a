import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * The dashboard API against real data: keyset paging, every filter compared with plain SQL, and
 * the SQL statement count of nested queries.
 */
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
  // 1,000 tasks with NULL and repeated sort keys (priority, created_at, updated_at, title), a
  // tree of parents, and JSON of several types at the same paths.
  await t.db.query(`
    INSERT INTO tasks (title, description, type, status, priority, assigned_to, created_at, updated_at, requirements, metadata)
    SELECT 'task ' || (i % 97) || CASE WHEN i % 5 = 0 THEN ' Alpha' WHEN i % 17 = 0 THEN ' 50% done' ELSE '' END,
           CASE WHEN i % 3 = 0 THEN NULL WHEN i % 4 = 0 THEN 'about ALPHA things' ELSE 'plain 50_ text' END,
           (ARRAY['general', 'bugfix', 'feature'])[1 + i % 3],
           (ARRAY['pending', 'in_progress', 'completed', 'failed', 'cancelled'])[1 + i % 5],
           CASE WHEN i % 7 = 0 THEN NULL ELSE i % 11 END,
           CASE WHEN i % 6 = 0 THEN NULL ELSE (ARRAY['alice', 'bob', 'carol'])[1 + i % 3] END,
           CASE WHEN i % 13 = 0 THEN NULL ELSE timestamptz '2026-01-01 00:00:00+00' + (i % 50) * interval '1 hour' + (i % 3) * interval '1 microsecond' END,
           CASE WHEN i % 9 = 0 THEN NULL ELSE timestamptz '2026-02-01 00:00:00+00' + (i % 20) * interval '1 minute' END,
           CASE WHEN i % 2 = 0 THEN '{"lang": "ts", "db": "pg"}'::jsonb ELSE '{"lang": "go"}'::jsonb END,
           jsonb_build_object('team', CASE WHEN i % 4 = 0 THEN 'core' ELSE 'edge' END, 'level', (ARRAY['low', 'high', 'mid'])[1 + i % 3])
             || CASE i % 5 WHEN 0 THEN '{}'::jsonb
                           WHEN 1 THEN jsonb_build_object('estimate', jsonb_build_object('hours', (i % 8) + 0.5))
                           WHEN 2 THEN '{"estimate": {"hours": "unknown"}}'::jsonb
                           WHEN 3 THEN jsonb_build_object('estimate', jsonb_build_object('hours', i % 8), 'flags', jsonb_build_object('urgent', i % 2 = 0))
                           ELSE jsonb_build_object('estimate', jsonb_build_object('hours', i % 10 = 4)) END
    FROM generate_series(1, 1000) AS i`);
  // Every 10th task (by title order) becomes the parent of the next nine.
  await t.db.query(`
    WITH ranked AS (SELECT id, row_number() OVER (ORDER BY title, id) - 1 AS n FROM tasks),
         parents AS (SELECT id, n / 10 AS g FROM ranked WHERE n % 10 = 0)
    UPDATE tasks SET parent_task_id = p.id FROM ranked r JOIN parents p ON p.g = r.n / 10
    WHERE tasks.id = r.id AND r.n % 10 <> 0`);
  // Three executions per task, each with a log entry.
  await t.db.query(`
    INSERT INTO task_executions (task_id, agent_type, status, log_count, created_at)
    SELECT id, (ARRAY['codegen', 'claude', 'ci'])[k], (ARRAY['running', 'succeeded', 'failed'])[k],
           1, coalesce(created_at, '2026-03-01') + k * interval '1 minute'
    FROM tasks, generate_series(1, 3) AS k`);
  await t.db.query(`INSERT INTO execution_log_entries (execution_id, seq, message) SELECT id, 0, repeat('x', 100) FROM task_executions`);
}, 120_000);
afterAll(() => t.close());

function ok(res: { body: { data?: any; errors?: unknown[] } }) {
  expect(res.body.errors).toBeUndefined();
  return res.body.data;
}

function statements(res: { headers: Headers }): number {
  return Number(res.headers.get('x-sql-statements'));
}

describe('SQL statements per request', () => {
  const nested = (first: number, total = '') => `{
    tasks(first: ${first}, filter: { isRoot: false }) {
      ${total}
      edges { cursor node { id title
        executions(first: 10) { nodes { id status agentType } pageInfo { hasNextPage } }
        parent { title }
        subtasks(first: 5) { nodes { id title } }
      } }
    }
  }`;

  it('is one for 5 and for 100 tasks, whatever the relations below them', async () => {
    const small = await t.gql(nested(5));
    const large = await t.gql(nested(100));
    expect(ok(small).tasks.edges).toHaveLength(5);
    expect(ok(large).tasks.edges).toHaveLength(100);
    expect(large.body.data.tasks.edges[0].node.executions.nodes).toHaveLength(3);
    expect(large.body.data.tasks.edges.every((e: any) => e.node.parent?.title)).toBe(true);
    // tasks, their executions, parents and subtasks: one planned statement (src/graphql/planner.ts)
    expect(statements(small)).toBe(1);
    expect(statements(large)).toBe(1);
  });

  it('counts totalCount in the same statement', async () => {
    const res = await t.gql(nested(100, 'totalCount'));
    const [{ count }] = await t.db.query(`SELECT count(*)::int AS count FROM tasks WHERE parent_task_id IS NOT NULL`);
    expect(ok(res).tasks.totalCount).toBe(count);
    expect(statements(res)).toBe(1);
  });

  it('plans latestExecution, executionCount and nested totalCount into the same statement', async () => {
    const q = (n: number) =>
      `{ tasks(first: ${n}) { nodes { id executionCount latestExecution { agentType } executions(first: 1) { totalCount nodes { id } } } } }`;
    const [a, b] = [await t.gql(q(3)), await t.gql(q(100))];
    const nodes = ok(b).tasks.nodes;
    expect(nodes.every((n: any) => n.executionCount === 3 && n.executions.totalCount === 3 && n.latestExecution.agentType === 'ci')).toBe(
      true,
    );
    expect(statements(a)).toBe(1);
    expect(statements(b)).toBe(1);
  });

  it('reads only the selected columns: no logs or agentConfig unless asked', async () => {
    const seen: string[] = [];
    const logger = t.gateway.dataSource.logger;
    const original = logger.logQuery.bind(logger);
    logger.logQuery = (query, parameters, runner) => {
      seen.push(query);
      return original(query, parameters, runner);
    };
    try {
      ok(await t.gql(`{ tasks(first: 3) { nodes { title executions(first: 2) { nodes { status } } } } }`));
      expect(seen.join('\n')).not.toMatch(/execution_log_entries|agent_config|description|metadata/);
      seen.length = 0;
      const res = ok(await t.gql(`{ executions(first: 2) { nodes { logs } } }`));
      expect(res.executions.nodes[0].logs).toEqual(['x'.repeat(100)]);
      expect(seen.join('\n')).toMatch(/execution_log_entries/);
      expect(seen.join('\n')).not.toMatch(/agent_config/);
    } finally {
      logger.logQuery = original;
    }
  });
});

const ORDERS: { orderBy: { field: string; direction: string }[]; sql: string }[] = [
  ...['PRIORITY', 'CREATED_AT', 'UPDATED_AT', 'TITLE'].flatMap((field) =>
    ['ASC', 'DESC'].map((direction) => ({
      orderBy: [{ field, direction }],
      sql: `${field.toLowerCase()} ${direction} NULLS ${direction === 'ASC' ? 'LAST' : 'FIRST'}, id ${direction}`,
    })),
  ),
  { orderBy: [], sql: 'created_at DESC NULLS FIRST, id DESC' },
  {
    orderBy: [
      { field: 'PRIORITY', direction: 'DESC' },
      { field: 'TITLE', direction: 'ASC' },
      { field: 'UPDATED_AT', direction: 'DESC' },
    ],
    sql: 'priority DESC NULLS FIRST, title ASC, updated_at DESC NULLS FIRST, id DESC',
  },
];

describe('keyset paging through 1,000 tasks with first/last: 37', () => {
  const page = `query($first: Int, $after: String, $last: Int, $before: String, $orderBy: [TaskOrder!]) {
    tasks(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
      edges { cursor node { id } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }`;

  it.each(ORDERS.map((o) => [o.sql, o] as const))(
    'returns every task once, in order: %s',
    async (_name, { orderBy, sql }) => {
      const expected = (await t.db.query(`SELECT id FROM tasks ORDER BY ${sql}`)).map((r) => r.id);
      expect(expected.length).toBeGreaterThanOrEqual(1000);

      const forwards: string[] = [];
      let after: string | undefined;
      for (let i = 0; ; i++) {
        const { tasks } = ok(await t.gql(page, { first: 37, after, orderBy }));
        forwards.push(...tasks.edges.map((e: any) => e.node.id));
        expect(tasks.pageInfo.hasPreviousPage).toBe(i > 0);
        expect(tasks.pageInfo.endCursor).toBe(tasks.edges.at(-1)?.cursor ?? null);
        if (!tasks.pageInfo.hasNextPage) break;
        after = tasks.pageInfo.endCursor;
      }
      expect(forwards).toEqual(expected);

      const backwards: string[][] = [];
      let before: string | undefined;
      for (;;) {
        const { tasks } = ok(await t.gql(page, { last: 37, before, orderBy }));
        backwards.unshift(tasks.edges.map((e: any) => e.node.id));
        if (!tasks.pageInfo.hasPreviousPage) break;
        before = tasks.pageInfo.startCursor;
      }
      expect(backwards.flat()).toEqual(expected);
    },
    120_000,
  );

  it('pages subtasks and executions with cursors too', async () => {
    const [{ id: parent }] = await t.db.query(`SELECT parent_task_id AS id FROM tasks WHERE parent_task_id IS NOT NULL LIMIT 1`);
    const q = `query($id: UUID!, $after: String) { task(id: $id) { subtasks(first: 4, after: $after, orderBy: [{ field: TITLE, direction: ASC }]) { nodes { id } pageInfo { endCursor hasNextPage } } } }`;
    const expected = (await t.db.query(`SELECT id FROM tasks WHERE parent_task_id = $1 ORDER BY title, id`, [parent])).map((r) => r.id);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const { subtasks } = ok(await t.gql(q, { id: parent, after })).task;
      seen.push(...subtasks.nodes.map((n: any) => n.id));
      if (!subtasks.pageInfo.hasNextPage) break;
      after = subtasks.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected);
  });
});

describe('nested keyset paging (LATERAL, NULL keys)', () => {
  it('pages the executions of many tasks at once, forwards and backwards, including tasks whose runs have no created_at', async () => {
    await t.db.query(
      `UPDATE task_executions SET created_at = NULL WHERE agent_type = 'claude' AND task_id IN (SELECT id FROM tasks WHERE priority = 1)`,
    );
    try {
      const q = `query($after: String, $before: String, $first: Int, $last: Int) {
        tasks(first: 100, orderBy: [{ field: TITLE, direction: ASC }]) { nodes { id executions(first: $first, after: $after, last: $last, before: $before) { edges { cursor node { agentType } } pageInfo { hasNextPage hasPreviousPage } } } }
      }`;
      const expected = async (id: string) =>
        (
          await t.db.query(`SELECT agent_type FROM task_executions WHERE task_id = $1 ORDER BY created_at DESC NULLS FIRST, id DESC`, [id])
        ).map((r) => r.agent_type);
      const first = ok(await t.gql(q, { first: 1 })).tasks.nodes;
      for (const task of first.slice(0, 40)) {
        const seen = [task.executions.edges[0].node.agentType];
        let cursor = task.executions.edges[0].cursor;
        for (;;) {
          const res = ok(
            await t.gql(
              `query($id: UUID!, $after: String) { task(id: $id) { executions(first: 1, after: $after) { edges { cursor node { agentType } } pageInfo { hasNextPage } } } }`,
              { id: task.id, after: cursor },
            ),
          );
          const page = res.task.executions;
          if (page.edges.length === 0) break;
          seen.push(page.edges[0].node.agentType);
          cursor = page.edges[0].cursor;
          if (!page.pageInfo.hasNextPage) break;
        }
        expect(seen).toEqual(await expected(task.id));
      }
      // backwards with the same cursor for every task: one LATERAL statement
      const last = ok(await t.gql(q, { last: 2 })).tasks.nodes;
      for (const task of last.slice(0, 40)) {
        expect(task.executions.edges.map((e: any) => e.node.agentType)).toEqual((await expected(task.id)).slice(-2));
        expect(task.executions.pageInfo.hasPreviousPage).toBe(true);
      }
    } finally {
      await t.db.query(
        `UPDATE task_executions e SET created_at = coalesce(t.created_at, '2026-03-01') + interval '2 minutes' FROM tasks t WHERE e.task_id = t.id AND e.created_at IS NULL`,
      );
    }
  });
});

describe('TaskFilter compared with plain SQL', () => {
  async function ids(filter: unknown): Promise<string[]> {
    const out: string[] = [];
    let after: string | undefined;
    let total: number | undefined;
    for (;;) {
      const { tasks } = ok(
        await t.gql(
          `query($f: TaskFilter, $after: String) { tasks(first: 100, after: $after, filter: $f) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }`,
          { f: filter, after },
        ),
      );
      total = tasks.totalCount;
      out.push(...tasks.nodes.map((n: any) => n.id));
      if (!tasks.pageInfo.hasNextPage) break;
      after = tasks.pageInfo.endCursor;
    }
    expect(out).toHaveLength(total!);
    return out.sort();
  }
  const sqlIds = async (where: string, params: unknown[] = []) =>
    (await t.db.query(`SELECT id FROM tasks WHERE ${where}`, params)).map((r) => r.id).sort();

  const cases: [string, unknown, string][] = [
    ['status', { status: ['PENDING', 'FAILED'] }, `status IN ('pending', 'failed')`],
    ['type', { type: 'bugfix' }, `type = 'bugfix'`],
    ['assignedTo', { assignedTo: ['alice', 'carol'] }, `assigned_to IN ('alice', 'carol')`],
    ['priority range', { priority: { gte: 3, lt: 7 } }, `priority >= 3 AND priority < 7`],
    ['priority gt/lte', { priority: { gt: 8, lte: 10 } }, `priority > 8 AND priority <= 10`],
    [
      'createdAt range',
      { createdAt: { gte: '2026-01-01T10:00:00Z', lt: '2026-01-02T00:00:00Z' } },
      `created_at >= '2026-01-01T10:00:00Z' AND created_at < '2026-01-02T00:00:00Z'`,
    ],
    ['updatedAt range', { updatedAt: { gt: '2026-02-01T00:10:00Z' } }, `updated_at > '2026-02-01T00:10:00Z'`],
    ['isRoot', { isRoot: true }, `parent_task_id IS NULL`],
    ['not root', { isRoot: false }, `parent_task_id IS NOT NULL`],
    ['search, case-insensitive', { search: 'alpha' }, `title ILIKE '%alpha%' OR description ILIKE '%alpha%'`],
    [
      'search with wildcards taken literally',
      { search: '50%' },
      `strpos(lower(title), '50%') > 0 OR strpos(lower(description), '50%') > 0`,
    ],
    ['search with underscore', { search: '50_' }, `strpos(lower(title), '50_') > 0 OR strpos(lower(description), '50_') > 0`],
    ['requirementsContains', { requirementsContains: { lang: 'ts' } }, `requirements @> '{"lang": "ts"}'`],
    ['metadataContains', { metadataContains: { team: 'core', level: 'high' } }, `metadata @> '{"team": "core", "level": "high"}'`],
    [
      'jsonPath number gt',
      { jsonPath: { path: ['estimate', 'hours'], gt: 3 } },
      `jsonb_typeof(metadata #> '{estimate,hours}') = 'number' AND (metadata #>> '{estimate,hours}')::numeric > 3`,
    ],
    [
      'jsonPath number range',
      { jsonPath: { path: ['estimate', 'hours'], gte: 2.5, lt: 6 } },
      `jsonb_typeof(metadata #> '{estimate,hours}') = 'number' AND (metadata #>> '{estimate,hours}')::numeric BETWEEN 2.5 AND 5.99999`,
    ],
    [
      'jsonPath number ne',
      { jsonPath: { path: ['estimate', 'hours'], ne: 4 } },
      `jsonb_typeof(metadata #> '{estimate,hours}') = 'number' AND (metadata #>> '{estimate,hours}')::numeric <> 4`,
    ],
    ['jsonPath string eq', { jsonPath: { path: ['level'], eq: 'high' } }, `metadata->>'level' = 'high'`],
    ['jsonPath string gt', { jsonPath: { path: ['level'], gt: 'low' } }, `metadata->>'level' > 'low'`],
    [
      'jsonPath string on a mixed path',
      { jsonPath: { path: ['estimate', 'hours'], eq: 'unknown' } },
      `metadata #> '{estimate,hours}' = '"unknown"'`,
    ],
    ['jsonPath boolean', { jsonPath: { path: ['flags', 'urgent'], eq: true } }, `metadata #> '{flags,urgent}' = 'true'`],
    ['jsonPath boolean ne', { jsonPath: { path: ['estimate', 'hours'], ne: true } }, `metadata #> '{estimate,hours}' = 'false'`],
    ['jsonPath exists', { jsonPath: { path: ['estimate'], exists: false } }, `NOT metadata ? 'estimate'`],
    ['jsonPath on requirements', { jsonPath: { field: 'REQUIREMENTS', path: ['db'], eq: 'pg' } }, `requirements->>'db' = 'pg'`],
    [
      'fields of one object are ANDed',
      { status: ['PENDING'], type: 'general', priority: { lt: 5 } },
      `status = 'pending' AND type = 'general' AND priority < 5`,
    ],
    ['or', { or: [{ status: ['COMPLETED'] }, { priority: { gt: 8 } }] }, `status = 'completed' OR priority > 8`],
    ['and', { and: [{ assignedTo: ['bob'] }, { isRoot: false }] }, `assigned_to = 'bob' AND parent_task_id IS NOT NULL`],
    ['not, complement including NULLs', { not: { priority: { gt: 5 } } }, `NOT (priority > 5) OR priority IS NULL`],
    [
      'nested composition',
      {
        or: [
          { and: [{ type: 'bugfix' }, { not: { assignedTo: ['alice'] } }] },
          { jsonPath: { path: ['estimate', 'hours'], lte: 1 }, search: 'alpha' },
        ],
        not: { status: ['CANCELLED'] },
      },
      `((type = 'bugfix' AND assigned_to IS DISTINCT FROM 'alice')
        OR (jsonb_typeof(metadata #> '{estimate,hours}') = 'number' AND (metadata #>> '{estimate,hours}')::numeric <= 1 AND (title ILIKE '%alpha%' OR description ILIKE '%alpha%')))
       AND status <> 'cancelled'`,
    ],
    ['empty or matches nothing', { or: [] }, `FALSE`],
    ['empty filter matches everything', {}, `TRUE`],
  ];

  it.each(cases)('%s', async (_name, filter, where) => {
    const expected = await sqlIds(where);
    expect(await ids(filter)).toEqual(expected);
  });

  it('passes hostile text as data, never as SQL', async () => {
    const hostile = `x'); DROP TABLE tasks; --`;
    for (const filter of [
      { search: hostile },
      { type: hostile },
      { assignedTo: [hostile] },
      { jsonPath: { path: [hostile, "a'b"], eq: hostile } },
      { metadataContains: { [hostile]: hostile } },
    ]) {
      expect(await ids(filter)).toEqual([]);
    }
    expect((await t.db.query(`SELECT count(*)::int AS n FROM tasks`))[0].n).toBeGreaterThanOrEqual(1000);
  });

  it('filters by parent', async () => {
    const [{ id }] = await t.db.query(`SELECT parent_task_id AS id FROM tasks WHERE parent_task_id IS NOT NULL LIMIT 1`);
    expect(await ids({ parentId: id })).toEqual(await sqlIds('parent_task_id = $1', [id]));
  });

  it('every case above selects something and leaves something out (so none is vacuous)', async () => {
    const [{ count }] = await t.db.query(`SELECT count(*)::int AS count FROM tasks`);
    for (const [name, , where] of cases.filter(([, , w]) => w !== 'TRUE' && w !== 'FALSE')) {
      const n = (await sqlIds(where)).length;
      expect([name, n > 0 && n < count]).toEqual([name, true]);
    }
  });

  it('filters executions by status, agent type, task and time', async () => {
    const [{ id: taskId }] = await t.db.query(`SELECT id FROM tasks LIMIT 1`);
    const filter = { status: ['SUCCEEDED', 'FAILED'], agentType: ['claude', 'ci'], createdAt: { gte: '2026-01-01T05:00:00Z' } };
    const res = ok(await t.gql(`query($f: ExecutionFilter) { executions(first: 100, filter: $f) { totalCount } }`, { f: filter }));
    const [{ count }] = await t.db.query(
      `SELECT count(*)::int AS count FROM task_executions WHERE status IN ('succeeded', 'failed') AND agent_type IN ('claude', 'ci') AND created_at >= '2026-01-01T05:00:00Z'`,
    );
    expect(res.executions.totalCount).toBe(count);
    const one = ok(
      await t.gql(`query($f: ExecutionFilter) { executions(filter: $f) { nodes { task { id } agentType } } }`, { f: { taskId } }),
    );
    expect(one.executions.nodes.map((n: any) => n.agentType)).toEqual(['ci', 'claude', 'codegen']);
    expect(one.executions.nodes.every((n: any) => n.task.id === taskId)).toBe(true);
    const nested = ok(
      await t.gql(`query($id: UUID!) { task(id: $id) { executions(filter: { agentType: ["claude"] }) { nodes { agentType } } } }`, {
        id: taskId,
      }),
    );
    expect(nested.task.executions.nodes).toEqual([{ agentType: 'claude' }]);
  });
});

describe('refused input changes nothing', () => {
  const codeOf = (res: any) => res.body.errors?.[0]?.extensions?.code;

  it.each([
    ['first over the maximum', `{ tasks(first: 101) { nodes { id } } }`],
    ['last over the maximum', `{ tasks(last: 500) { nodes { id } } }`],
    ['negative first', `{ tasks(first: -1) { nodes { id } } }`],
    ['first and last together', `{ tasks(first: 5, last: 5) { nodes { id } } }`],
    ['a malformed cursor', `{ tasks(after: "not-a-cursor!") { nodes { id } } }`],
    ['a cursor that is base64 of garbage', `{ tasks(after: "${Buffer.from('[1,2').toString('base64url')}") { nodes { id } } }`],
    [
      'a cursor with a forged value',
      `{ tasks(after: "${Buffer.from(JSON.stringify(['task:CREATED_AT.DESC', "x'; DROP TABLE tasks", 'y'])).toString('base64url')}") { nodes { id } } }`,
    ],
    [
      'a title cursor with a forged NUL',
      `{ tasks(orderBy: [{ field: TITLE, direction: ASC }], after: "${Buffer.from(JSON.stringify(['task:TITLE.ASC', 'a\u0000', '82613500-d5eb-4ebf-a2d2-be49dd63b822'])).toString('base64url')}") { nodes { id } } }`,
    ],
    ['a nested connection over the maximum', `{ tasks(first: 2) { nodes { executions(first: 1000) { nodes { id } } } } }`],
    [
      'a repeated orderBy field',
      `{ tasks(orderBy: [{ field: TITLE, direction: ASC }, { field: TITLE, direction: DESC }]) { nodes { id } } }`,
    ],
    ['a jsonPath with mixed types', `{ tasks(filter: { jsonPath: { path: ["a"], gt: 1, lt: "z" } }) { nodes { id } } }`],
    ['a jsonPath ordering booleans', `{ tasks(filter: { jsonPath: { path: ["a"], gt: true } }) { nodes { id } } }`],
    ['a jsonPath comparing objects', `{ tasks(filter: { jsonPath: { path: ["a"], eq: { b: 1 } } }) { nodes { id } } }`],
    ['a jsonPath with no comparison', `{ tasks(filter: { jsonPath: { path: ["a"] } }) { nodes { id } } }`],
    ['a jsonPath with an empty path', `{ tasks(filter: { jsonPath: { path: [], eq: 1 } }) { nodes { id } } }`],
  ])('%s is BAD_USER_INPUT', async (_name, query) => {
    const res = await t.gql(query);
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.body.errors![0].message).not.toMatch(/SQL|syntax|relation/i);
  });

  it('refuses a cursor of another ordering', async () => {
    const { tasks } = ok(await t.gql(`{ tasks(first: 1, orderBy: [{ field: TITLE, direction: ASC }]) { pageInfo { endCursor } } }`));
    const res = await t.gql(`query($c: String) { tasks(after: $c) { nodes { id } } }`, { c: tasks.pageInfo.endCursor });
    expect(codeOf(res)).toBe('BAD_USER_INPUT');
    expect(res.body.errors![0].message).toMatch(/another ordering/);
  });

  it('caps filter composition: breadth and depth', async () => {
    const wide = { or: Array.from({ length: 50 }, () => ({ type: 'x' })) };
    let deep: any = { type: 'x' };
    for (let i = 0; i < 6; i++) deep = { not: deep };
    for (const f of [wide, deep]) {
      const res = await t.gql(`query($f: TaskFilter) { tasks(filter: $f) { nodes { id } } }`, { f });
      expect(codeOf(res)).toBe('BAD_USER_INPUT');
      expect(res.body.errors![0].extensions!.field).toBe('filter');
    }
    const fits = { or: Array.from({ length: 49 }, () => ({ type: 'x' })) };
    expect(codeOf(await t.gql(`query($f: TaskFilter) { tasks(filter: $f) { nodes { id } } }`, { f: fits }))).toBeUndefined();
  });
});

describe('docs/api.md', () => {
  it('its "Reading and writing" read examples run without errors', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = readFileSync(`${__dirname}/../docs/api.md`, 'utf8');
    const section = doc.slice(doc.indexOf('## Reading and writing'), doc.indexOf('## Concurrent writers'));
    const blocks = [...section.matchAll(/```graphql\n([\s\S]*?)```/g)]
      .map((m) => m[1])
      .filter((q) => !q.trimStart().startsWith('mutation'));
    expect(blocks).toHaveLength(3);
    for (const query of blocks) {
      const res = await t.gql(query);
      expect([query.slice(0, 40), res.body.errors]).toEqual([query.slice(0, 40), undefined]);
    }
  });
});

describe('paging defaults', () => {
  it('gives 20 by default, and the 20 just before `before` when only before is given', async () => {
    const all = (await t.db.query(`SELECT id FROM tasks ORDER BY created_at DESC NULLS FIRST, id DESC`)).map((r) => r.id);
    const first = ok(await t.gql(`{ tasks { nodes { id } pageInfo { hasNextPage hasPreviousPage } } }`)).tasks;
    expect(first.nodes.map((n: any) => n.id)).toEqual(all.slice(0, 20));
    expect(first.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false });
    const at = ok(await t.gql(`{ tasks(first: 50) { edges { cursor } } }`)).tasks.edges[49].cursor;
    const before = ok(
      await t.gql(`query($b: String) { tasks(before: $b) { nodes { id } pageInfo { hasNextPage hasPreviousPage } } }`, { b: at }),
    ).tasks;
    expect(before.nodes.map((n: any) => n.id)).toEqual(all.slice(29, 49));
    expect(before.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: true });
    const zero = ok(await t.gql(`{ tasks(first: 0) { nodes { id } pageInfo { hasNextPage } } }`)).tasks;
    expect(zero).toEqual({ nodes: [], pageInfo: { hasNextPage: true } });
  });
});
