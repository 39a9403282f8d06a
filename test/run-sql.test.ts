import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { createTestDatabase } from './support/database';
import { createRoledDatabase, type RoledDatabase } from './support/db-roles';
import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * runSql runs as the console role made by `npm run db:init` (test/support/db-roles.ts), on its own
 * connection; the gateway itself runs as the runtime role.
 */
let roled: RoledDatabase;
let t: TestGateway;
beforeAll(async () => {
  roled = await createRoledDatabase();
  t = await startTestGateway(
    {
      DATABASE_URL: roled.runtimeUrl,
      RUN_SQL_ENABLED: 'true',
      RUN_SQL_DATABASE_URL: roled.consoleUrl,
      RUN_SQL_TIMEOUT_MS: '60000',
      RUN_SQL_ROW_LIMIT: '5',
      RUN_SQL_CELL_BYTES: '1000',
      RUN_SQL_ANSWER_BYTES: '4096',
    },
    { database: roled.db },
  );
  await t.gql(`mutation { createTask(input: { title: "visible to SQL" }) { id } }`);
});
afterAll(async () => {
  await t?.close();
  await roled?.drop();
});

const RUN = `query($sql: String!) { runSql(sql: $sql) { columns rows rowCount truncated truncatedBy truncatedCells { row column } } }`;
const run = (sql: string, headers?: Record<string, string>) => t.gql(RUN, { sql }, headers);

async function expectRefused(sql: string, reason: RegExp) {
  const res = await run(sql);
  expect(res.body.data).toBeNull();
  expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sql' });
  expect(res.body.errors?.[0].message).toMatch(reason);
}

describe('runSql', () => {
  it('runs one read-only statement as the console role and returns columns and rows', async () => {
    const res = await run(`SELECT title, status FROM tasks WHERE title = 'visible to SQL'`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.runSql).toEqual({
      columns: ['title', 'status'],
      rows: [{ title: 'visible to SQL', status: 'pending' }],
      rowCount: 1,
      truncated: false,
      truncatedBy: [],
      truncatedCells: [],
    });
    const show = await run('SHOW transaction_read_only');
    expect(show.body.data.runSql.rows).toEqual([{ transaction_read_only: 'on' }]);
    const who = await run('SELECT current_user AS u, session_user AS s');
    expect(who.body.data.runSql.rows).toEqual([{ u: roled.roles.console, s: roled.roles.console }]);
  });

  it('caps the rows it returns', async () => {
    const res = await run('SELECT g FROM generate_series(1, 1000000) g;');
    expect(res.body.data.runSql).toMatchObject({ rowCount: 5, truncated: true, truncatedBy: ['ROWS'] });
    expect(res.body.data.runSql.rows).toEqual([1, 2, 3, 4, 5].map((g) => ({ g })));
  });

  it('cuts a 100 MB cell to RUN_SQL_CELL_BYTES in SQL, so the value never reaches the gateway whole', async () => {
    const rssBefore = process.memoryUsage().rss;
    const res = await run(`SELECT 1 AS n, repeat('é', 50000000) AS big, 'short' AS small, '{"a":1}'::jsonb AS j`); // 100 MB of UTF-8
    expect(res.body.errors).toBeUndefined();
    const answer = res.body.data.runSql;
    expect(answer.columns).toEqual(['n', 'big', 'small', 'j']);
    expect(answer.rows[0].n).toBe(1);
    expect(answer.rows[0].small).toBe('short');
    expect(answer.rows[0].j).toEqual({ a: 1 });
    expect(answer.rows[0].big).toBe('é'.repeat(500)); // 1000 bytes
    expect(answer).toMatchObject({ truncated: true, truncatedBy: ['CELL_BYTES'], truncatedCells: [{ row: 0, column: 'big' }] });
    // The gateway runs in this process: a 100 MB string would have shown in its memory.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(50 * 1024 * 1024);
  });

  it('stops adding rows at RUN_SQL_ANSWER_BYTES and says so', async () => {
    const res = await run(`SELECT repeat('x', 900) AS x FROM generate_series(1, 5)`);
    expect(res.body.data.runSql).toMatchObject({ truncated: true, truncatedBy: ['ANSWER_BYTES'] });
    expect(res.body.data.runSql.rowCount).toBe(4);
  });

  it('keeps duplicate and odd column names, and statements without columns', async () => {
    expect((await run(`SELECT 1 AS "a b", 2 AS "q(c1)"`)).body.data.runSql.rows).toEqual([{ 'a b': 1, 'q(c1)': 2 }]);
    expect((await run(`SELECT FROM tasks`)).body.data.runSql).toMatchObject({ columns: [], rowCount: 1 });
  });

  it('refuses DROP TABLE and INSERT, and changes nothing', async () => {
    await expectRefused('DROP TABLE tasks', /queries only/);
    await expectRefused(`INSERT INTO tasks (title) VALUES ('sneaky')`, /queries only/);
    await expectRefused(`WITH x AS (DELETE FROM tasks RETURNING id) SELECT * FROM x`, /read-only|permission denied|data-modifying/);
    expect(await t.db.query(`SELECT title FROM tasks`)).toEqual([{ title: 'visible to SQL' }]);
  });

  const file = () => `/tmp/tm-runsql-${randomBytes(6).toString('hex')}`;
  const hostile: [string, (path: string) => string, RegExp][] = [
    ['COPY TO a file', (p) => `COPY (SELECT 'x') TO '${p}'`, /queries only|COPY/],
    ['COPY TO PROGRAM', (p) => `COPY (SELECT 1) TO PROGRAM 'touch ${p}'`, /queries only|COPY/],
    ['COPY FROM a file', () => `COPY tasks FROM '/etc/passwd'`, /queries only|COPY/],
    ['DO', (p) => `DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO ''${p}'''; END $$`, /queries only/],
    ['CALL', () => `CALL nothing()`, /queries only/],
    ['SET ROLE', () => `SET ROLE postgres`, /queries only/],
    ['SET SESSION AUTHORIZATION', () => `SET SESSION AUTHORIZATION postgres`, /queries only/],
    ['set_config role', () => `SELECT set_config('role', 'postgres', false)`, /set_config/],
    ['pg_read_file', () => `SELECT pg_read_file('/etc/passwd')`, /read the server's files/],
    ['pg_read_file, quoted', () => `SELECT "pg_read_file"('/etc/passwd')`, /read the server's files/],
    ['pg_ls_dir', () => `SELECT pg_ls_dir('/')`, /read the server's files/],
    ['lo_import', () => `SELECT lo_import('/etc/passwd')`, /large-object/],
    ['lo_export', (p) => `SELECT lo_export(1, '${p}')`, /large-object/],
    ['dblink', () => `SELECT * FROM dblink('dbname=postgres', 'select 1') AS t(x int)`, /dblink/],
    ['query_to_xml', (p) => `SELECT query_to_xml('COPY (SELECT 1) TO ''${p}''', true, false, '')`, /SQL given as a string/],
    ['two statements', (p) => `SELECT 1; COPY (SELECT 1) TO '${p}'`, /exactly one statement/],
    ['api_tokens', () => `SELECT token_hash FROM api_tokens`, /permission denied/],
    ['credentials column', () => `SELECT configuration FROM external_integrations`, /permission denied/],
  ];

  it.each(hostile)('refuses %s, and no file appears on the server', async (_name, make, reason) => {
    const path = file();
    await expectRefused(make(path), reason);
    expect(existsSync(path)).toBe(false);
  });

  it.each(hostile.filter(([name]) => !/^two statements$/.test(name)))(
    'the console role alone refuses %s (the privileges are the first line, our checks the second)',
    async (_name, make) => {
      const path = file();
      const client = new Client({ connectionString: roled.consoleUrl });
      await client.connect();
      try {
        await expect(client.query(make(path))).rejects.toThrow(
          /permission denied|must be superuser|pg_write_server_files|pg_read_server_files|pg_execute_server_program|does not exist|read-only|not allowed/,
        );
      } finally {
        await client.end();
      }
      expect(existsSync(path)).toBe(false);
    },
  );

  it('cancels a statement past the timeout', async () => {
    const short = await startTestGateway(
      { DATABASE_URL: roled.runtimeUrl, RUN_SQL_ENABLED: 'true', RUN_SQL_DATABASE_URL: roled.consoleUrl, RUN_SQL_TIMEOUT_MS: '300' },
      { database: roled.db },
    );
    try {
      const started = Date.now();
      const res = await short.gql(RUN, { sql: 'select pg_sleep(60)' });
      expect(res.body.errors?.[0]).toMatchObject({
        extensions: { code: 'BAD_USER_INPUT', field: 'sql' },
        message: expect.stringMatching(/statement timeout/),
      });
      expect(Date.now() - started).toBeLessThan(30_000);
      // the connection went back to the pool in a usable state
      expect((await short.gql(RUN, { sql: 'select 1 AS one' })).body.data.runSql.rows).toEqual([{ one: 1 }]);
    } finally {
      await short.close();
    }
  });

  it('takes exactly one statement', async () => {
    await expectRefused('select 1; select 2', /exactly one statement/);
    await expectRefused(`select 1; DROP TABLE tasks`, /exactly one statement/);
    await expectRefused(`select 1) AS q(c1); select (1`, /unbalanced parentheses/);
    await expectRefused('', /empty/);
    await expectRefused('-- only a comment', /empty/);
    expect((await run(`SELECT 'a;b' AS s -- trailing; comment`)).body.data.runSql.rows).toEqual([{ s: 'a;b' }]);
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

describe('runSql cannot reach the service', () => {
  const asConsole = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: roled.consoleUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  const errorOf = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: { code?: string }) => error.code,
    );

  it("refuses advisory locks (the change log's among them), and a concurrent createTask is not stalled", async () => {
    const attempts = [
      `SELECT pg_advisory_lock(hashtext('taskmaster_change_log'))`,
      `SELECT pg_advisory_xact_lock(hashtext('taskmaster_change_log'))`,
      `SELECT pg_try_advisory_lock(1), pg_advisory_lock_shared(2)`,
      `SELECT "pg_advisory_lock"(1)`,
      // ts_stat runs the SQL it is given: the text inside the string is never seen by a lexer
      `SELECT * FROM ts_stat('SELECT to_tsvector(pg_advisory_lock(1)::text)')`,
    ];
    for (const sql of attempts) {
      const started = Date.now();
      const [console, write] = await Promise.all([
        run(sql),
        t.gql(`mutation { createTask(input: { title: "written beside the console" }) { id } }`),
      ]);
      expect(console.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sql' });
      expect(write.body.errors).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(2_000);
    }
    // The first line: the console role itself may not execute them (db:init revoked them from PUBLIC
    // in this database and granted them back to the owner and runtime roles, which the gateway needs).
    await asConsole(async (client) => {
      expect(await errorOf(client.query(`SELECT pg_advisory_lock(hashtext('taskmaster_change_log'))`))).toBe('42501');
      expect(await errorOf(client.query(`SELECT pg_advisory_xact_lock(1)`))).toBe('42501');
      expect(await errorOf(client.query(`SELECT pg_try_advisory_xact_lock(1, 2)`))).toBe('42501');
      expect(await errorOf(client.query(`SELECT * FROM ts_stat('SELECT to_tsvector(pg_advisory_lock(1)::text)')`))).toBe('42501');
    });
    const rights = await t.db.query(
      `SELECT p.oid::regprocedure::text AS sig, has_function_privilege($1, p.oid, 'EXECUTE') AS console,
              has_function_privilege($2, p.oid, 'EXECUTE') AS runtime, has_function_privilege($3, p.oid, 'EXECUTE') AS owner
         FROM pg_proc p WHERE p.pronamespace = 'pg_catalog'::regnamespace
          AND (p.proname ~ '^pg_(try_)?advisory' OR p.proname IN ('pg_terminate_backend', 'pg_cancel_backend'))`,
      [roled.roles.console, roled.roles.runtime, roled.roles.owner],
    );
    expect(rights.length).toBeGreaterThan(20);
    for (const row of rights) expect(row).toEqual({ sig: row.sig, console: false, runtime: true, owner: true });
  });

  it('warns at start when the console role may still take advisory locks (db:init not run as a superuser)', async () => {
    await t.db.query(`GRANT EXECUTE ON FUNCTION pg_advisory_lock(bigint) TO "${roled.roles.console}"`);
    try {
      const g = await startTestGateway(
        { DATABASE_URL: roled.runtimeUrl, RUN_SQL_ENABLED: 'true', RUN_SQL_DATABASE_URL: roled.consoleUrl, LOG_LEVEL: 'warn' },
        { database: roled.db },
      );
      try {
        expect(g.logs.join('')).toMatch(/may execute 1 function\(s\) whose effect outlives the statement \(pg_advisory_lock\(bigint\)/);
        // still refused, by the statement check
        const res = await g.gql(RUN, { sql: 'SELECT pg_advisory_lock(1)' });
        expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'denied' });
      } finally {
        await g.close();
      }
    } finally {
      await t.db.query(`REVOKE EXECUTE ON FUNCTION pg_advisory_lock(bigint) FROM "${roled.roles.console}"`);
    }
  });

  it('refuses pg_terminate_backend and pg_cancel_backend', async () => {
    const victim = await asConsole(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
    await expectRefused(`SELECT pg_terminate_backend(${victim})`, /signalling other sessions is refused/);
    await expectRefused(`SELECT pg_cancel_backend(pg_backend_pid())`, /signalling other sessions is refused/);
    await asConsole(async (client) => {
      // Another console session, its own role's: PostgreSQL would allow it without the revoke.
      const other = new Client({ connectionString: roled.consoleUrl });
      await other.connect();
      try {
        const { rows } = await other.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        expect(await errorOf(client.query('SELECT pg_terminate_backend($1)', [rows[0].pid]))).toBe('42501');
        expect(await errorOf(client.query('SELECT pg_cancel_backend($1)', [rows[0].pid]))).toBe('42501');
        expect((await other.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await other.end();
      }
    });
  });

  it('runs with work_mem and temp_file_limit set: a 1 GB temp-file sort is cut with a clear code', async () => {
    expect((await run('SHOW work_mem')).body.data.runSql.rows).toEqual([{ work_mem: '16MB' }]);
    expect((await run('SHOW temp_file_limit')).body.data.runSql.rows).toEqual([{ temp_file_limit: '256MB' }]);
    // The console cannot raise it (a superuser-only setting)
    await asConsole(async (client) => expect(await errorOf(client.query(`SET temp_file_limit = -1`))).toBe('42501'));
    const started = Date.now();
    const res = await run(`SELECT md5(g::text) AS h FROM generate_series(1, 20000000) g ORDER BY h`); // ~1.2 GB to sort
    expect(res.body.data).toBeNull();
    expect(res.body.errors?.[0].extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'sql',
      reason: 'temp_file_limit',
      sqlState: '53400',
    });
    expect(res.body.errors?.[0].message).toMatch(/temp_file_limit/);
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it("ten busy console calls leave /ready at 200: the console pool is the admin's limit, not an outage", async () => {
    const busy = await startTestGateway(
      {
        DATABASE_URL: roled.runtimeUrl,
        RUN_SQL_ENABLED: 'true',
        RUN_SQL_DATABASE_URL: roled.consoleUrl,
        RUN_SQL_TIMEOUT_MS: '2000',
        DB_POOL_CONNECTION_TIMEOUT: '500',
      },
      { database: roled.db },
    );
    try {
      const calls = Array.from({ length: 10 }, () => busy.gql(RUN, { sql: 'SELECT pg_sleep(1.5)' }));
      await new Promise((r) => setTimeout(r, 800)); // the waiters beyond the console's two connections were refused
      const during = await fetch(`${busy.baseUrl}/ready`);
      expect([during.status, await during.json()]).toEqual([200, { status: 'ready' }]);
      const answers = await Promise.all(calls);
      const codes = answers.map((a) => a.body.errors?.[0].extensions?.code ?? 'OK').sort();
      expect(codes).toEqual(['OK', 'OK', ...Array(8).fill('RATE_LIMITED')]);
      expect(answers.find((a) => a.body.errors)?.body.errors?.[0]).toMatchObject({
        message: expect.stringMatching(/SQL console is busy/),
        extensions: { reason: 'console_busy' },
      });
      const after = await fetch(`${busy.baseUrl}/ready`);
      expect(after.status).toBe(200);
      expect((await busy.gql(`mutation { createTask(input: { title: "beside a busy console" }) { id } }`)).body.errors).toBeUndefined();
    } finally {
      await busy.close();
    }
  });
});

describe('runSql and superusers', () => {
  it('in production, a gateway whose runSql would run as a superuser refuses to start, naming the fix', async () => {
    const db = await createTestDatabase();
    try {
      await expect(startTestGateway({ NODE_ENV: 'production', RUN_SQL_ENABLED: 'true' }, { database: db })).rejects.toThrow(
        /RUN_SQL_DATABASE_URL: runSql would run as the database user "\w+", which is a superuser.*npm run db:init.*RUN_SQL_DATABASE_URL=postgres:\/\/taskmaster_console/s,
      );
    } finally {
      await db.drop();
    }
  });

  it('outside production, runSql as a superuser answers FORBIDDEN naming the fix, unless RUN_SQL_ALLOW_SUPERUSER', async () => {
    const dev = await startTestGateway({ RUN_SQL_ENABLED: 'true', LOG_LEVEL: 'warn' });
    try {
      const res = await dev.gql(RUN, { sql: 'SELECT 1' });
      expect(res.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(res.body.errors?.[0].message).toMatch(/superuser.*npm run db:init/);
      expect(dev.logs.join('')).toMatch(/connects to PostgreSQL as "\w+", a superuser/);
    } finally {
      await dev.close();
    }
    const allowed = await startTestGateway({ RUN_SQL_ENABLED: 'true', RUN_SQL_ALLOW_SUPERUSER: 'true' });
    try {
      expect((await allowed.gql(RUN, { sql: 'SELECT 1 AS one' })).body.data.runSql.rows).toEqual([{ one: 1 }]);
      // our own checks still hold
      expect((await allowed.gql(RUN, { sql: `COPY (SELECT 1) TO '/tmp/x'` })).body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    } finally {
      await allowed.close();
    }
  });
});
