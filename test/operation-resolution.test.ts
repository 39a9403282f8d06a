import { startTestGateway, type TestGateway } from './support/gateway';

/*
 * A document whose operation cannot be chosen is the client's mistake: 400 with a code, whatever
 * plugins run (cost, anonymous writes, metrics, request log, the graphql-jit executor), never a 500.
 */
const post = (t: TestGateway, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${t.adminToken}` }) =>
  fetch(`${t.baseUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  }).then(async (res) => ({
    status: res.status,
    body: await res.json(),
  }));

const CASES: [string, Record<string, unknown>, RegExp][] = [
  ['an operationName that names no operation', { query: '{ __typename }', operationName: 'Nope' }, /Unknown operation named "Nope"/],
  [
    'the old name of a renamed operation (GraphiQL)',
    { query: 'query Renamed { tasks { nodes { id } } }', operationName: 'TaskBoard' },
    /Unknown operation named "TaskBoard"/,
  ],
  [
    'two operations and no operationName',
    { query: 'query A { __typename } query B { __typename }' },
    /2 operations \(A, B\): send the one to run as operationName/,
  ],
  [
    'two operations and a null operationName',
    { query: 'query A { __typename } mutation B { __typename }', operationName: null },
    /2 operations/,
  ],
  [
    'a mutation document with an unknown name',
    { query: 'mutation M { createTask(input: { title: "x" }) { id } }', operationName: 'N' },
    /Unknown operation named "N"/,
  ],
];

/** /metrics is closed in production until METRICS_TOKEN is set: the scrape sends it. */
const METRICS_TOKEN = 'm'.repeat(32);

describe.each([
  ['development, with a token', { NODE_ENV: 'development', AUTH_ANONYMOUS_READ: 'false' }, true],
  ['development, anonymous reads', { NODE_ENV: 'development', AUTH_ANONYMOUS_READ: 'true' }, false],
  ['production', { NODE_ENV: 'production', DB_RUN_MIGRATIONS: 'true', METRICS_TOKEN }, true],
])('operation resolution (%s)', (_name, env, withToken) => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ ...env, LOG_LEVEL: 'info' });
  });
  afterAll(() => t.close());

  it.each(CASES)('answers %s with 400 OPERATION_RESOLUTION_FAILURE', async (_case, body, message) => {
    const res = await post(t, body, withToken ? { authorization: `Bearer ${t.adminToken}` } : {});
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].extensions.code).toBe('OPERATION_RESOLUTION_FAILURE');
    expect(res.body.errors[0].message).toMatch(message);
    expect(JSON.stringify(res.body)).not.toMatch(/Cannot read properties|undefined/);
    expect(await t.db.query('SELECT 1 FROM tasks')).toHaveLength(0);
  });

  it('refuses a subscription sent over HTTP: 400 BAD_USER_INPUT naming the WebSocket (was INTERNAL_SERVER_ERROR from its resolver)', async () => {
    const res = await post(
      t,
      { query: 'subscription Live { taskChanged { cursor operation } }' },
      withToken ? { authorization: `Bearer ${t.adminToken}` } : {},
    );
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT' } })]);
    expect(res.body.errors[0].message).toMatch(/WebSocket/);
  });

  it('runs the named operation of several', async () => {
    const res = await post(
      t,
      { query: 'query A { __typename } query B { tasks { nodes { id } } }', operationName: 'B' },
      withToken ? { authorization: `Bearer ${t.adminToken}` } : {},
    );
    expect(res).toEqual({ status: 200, body: expect.objectContaining({ data: { tasks: { nodes: [] } } }) });
  });

  it('logs the code the client got, the same /metrics counts', async () => {
    await post(t, { query: '{ __typename }', operationName: 'Nope' }, withToken ? { authorization: `Bearer ${t.adminToken}` } : {});
    await post(
      t,
      { query: 'query Bad { tasks(first: 100000) { nodes { id } } }' },
      withToken ? { authorization: `Bearer ${t.adminToken}` } : {},
    );
    const outcomes = t.logs.filter((l) => l.includes('graphql request')).map((l) => /outcome"?[:=]\s*"?([A-Z_,a-z]+)/.exec(l)?.[1]);
    expect(outcomes).toEqual(expect.arrayContaining(['OPERATION_RESOLUTION_FAILURE', 'BAD_USER_INPUT']));
    expect(outcomes).not.toContain('INTERNAL_SERVER_ERROR');
    const metrics = await (await fetch(`${t.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
    expect(metrics).toMatch(/graphql_requests_total\{operation="Nope",outcome="OPERATION_RESOLUTION_FAILURE"\} 2/);
    expect(metrics).toMatch(/graphql_requests_total\{operation="Bad",outcome="BAD_USER_INPUT"\} 1/);
  });
});

describe('unexpected errors before execution (production)', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ NODE_ENV: 'production', DB_RUN_MIGRATIONS: 'true', LOG_LEVEL: 'info' });
  });
  afterAll(() => t.close());

  it('masks a failure of the budget store that is not an outage, and logs it under the error id', async () => {
    const { token } = await t.token('viewer' as never, { name: 'fresh-budget' }); // a fresh budget: the store is asked
    await t.db.query('ALTER TABLE rate_limit_windows RENAME TO rate_limit_windows_gone');
    try {
      const res = await t.gql('{ tasks { nodes { id } } }', undefined, { authorization: `Bearer ${token}` });
      expect(res.status).toBe(500);
      const error = res.body.errors?.[0];
      expect(error?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      const errorId = error?.extensions?.errorId;
      expect(errorId).toMatch(/^[0-9a-f-]{36}$/);
      expect(error?.message).toBe(`Internal server error (error id ${errorId})`);
      expect(JSON.stringify(res.body)).not.toMatch(/rate_limit_windows|does not exist|INSERT|QueryFailedError/);
      const line = t.logs.find((l) => l.includes(errorId) && l.includes('"level":"error"'));
      expect(JSON.parse(line as string).error.message).toMatch(/rate_limit_windows.* does not exist/);
    } finally {
      await t.db.query('ALTER TABLE rate_limit_windows_gone RENAME TO rate_limit_windows');
    }
  });
});
