import { startTestGateway, type TestGateway } from './support/gateway';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ RUN_SQL_ENABLED: 'true', RUN_SQL_TIMEOUT_MS: '300', RUN_SQL_ROW_LIMIT: '5' });
  await t.gql(`mutation { createTask(input: { title: "visible to SQL" }) { id } }`);
});
afterAll(() => t.close());

const RUN = `query($sql: String!) { runSql(sql: $sql) { columns rows rowCount truncated } }`;
const run = (sql: string, headers?: Record<string, string>) => t.gql(RUN, { sql }, headers);

async function expectRefused(sql: string, reason: RegExp) {
  const res = await run(sql);
  expect(res.body.data).toBeNull();
  expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sql' });
  expect(res.body.errors?.[0].message).toMatch(reason);
}

describe('runSql', () => {
  it('runs one read-only statement and returns columns and rows', async () => {
    const res = await run(`SELECT title, status FROM tasks WHERE title = 'visible to SQL'`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.runSql).toEqual({ columns: ['title', 'status'], rows: [{ title: 'visible to SQL', status: 'pending' }], rowCount: 1, truncated: false });
    const show = await run('SHOW transaction_read_only');
    expect(show.body.data.runSql.rows).toEqual([{ transaction_read_only: 'on' }]);
  });

  it('caps the rows it returns', async () => {
    const res = await run('SELECT g FROM generate_series(1, 1000000) g;');
    expect(res.body.data.runSql).toMatchObject({ rowCount: 5, truncated: true });
    expect(res.body.data.runSql.rows).toEqual([1, 2, 3, 4, 5].map((g) => ({ g })));
  });

  it('refuses DROP TABLE and INSERT, and changes nothing', async () => {
    await expectRefused('DROP TABLE tasks', /read-only/);
    await expectRefused(`INSERT INTO tasks (title) VALUES ('sneaky')`, /read-only/);
    await expectRefused(`WITH x AS (DELETE FROM tasks RETURNING id) SELECT * FROM x`, /read-only|data-modifying/);
    expect(await t.db.query(`SELECT title FROM tasks`)).toEqual([{ title: 'visible to SQL' }]);
  });

  it('cancels a statement past the timeout', async () => {
    const started = Date.now();
    await expectRefused('select pg_sleep(60)', /statement timeout/);
    expect(Date.now() - started).toBeLessThan(30_000);
    // the connection went back to the pool in a usable state
    expect((await run('select 1 AS one')).body.data.runSql.rows).toEqual([{ one: 1 }]);
  });

  it('takes exactly one statement', async () => {
    await expectRefused('select 1; select 2', /exactly one statement/);
    await expectRefused(`select 1; DROP TABLE tasks`, /exactly one statement/);
    await expectRefused('', /empty/);
    expect(await t.db.query(`SELECT count(*)::int AS n FROM tasks`)).toEqual([{ n: 1 }]);
  });

  it('reports SQL errors to the admin and is admins only', async () => {
    await expectRefused('SELECT nope FROM tasks', /column "nope" does not exist/);
    const { token } = await t.token('operator' as any);
    const res = await run('SELECT 1', { authorization: `Bearer ${token}` });
    expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('is off unless enabled', async () => {
    const off = await startTestGateway();
    try {
      const res = await off.gql(RUN, { sql: 'SELECT 1' });
      expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(res.body.errors?.[0].message).toMatch(/RUN_SQL_ENABLED/);
    } finally {
      await off.close();
    }
  });
});
