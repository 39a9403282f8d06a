import { createHash } from 'node:crypto';
import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * Caps on every size a client controls (INPUT_MAX_*, src/security/input-limits.ts): the largest
 * allowed value passes, one more is BAD_USER_INPUT naming the field, and the database is unchanged.
 */
let t: TestGateway;
let taskId: string;
let executionId: string;
beforeAll(async () => {
  t = await startTestGateway();
  taskId = (await t.gql(`mutation { createTask(input: { title: "base" }) { id } }`)).body.data.createTask.id;
  executionId = (
    await t.gql(`mutation($id: UUID!) { startExecution(input: { taskId: $id, agentType: "codegen" }) { id } }`, { id: taskId })
  ).body.data.startExecution.id;
});
afterAll(() => t.close());

const CREATE = `mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }`;
const count = async () => (await t.db.query(`SELECT count(*)::int AS n FROM tasks`))[0].n as number;

async function expectBadInput(query: string, variables: Record<string, unknown>, field: string, message: RegExp) {
  const before = await count();
  const LOGS = `SELECT e.id, e.log_count, (SELECT json_agg(l ORDER BY l.seq) FROM execution_log_entries l WHERE l.execution_id = e.id) AS entries FROM task_executions e ORDER BY e.id`;
  const logs = JSON.stringify(await t.db.query(LOGS));
  const res = await t.gql(query, variables);
  expect(res.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field }, message: expect.stringMatching(message) });
  expect(await count()).toBe(before);
  expect(JSON.stringify(await t.db.query(LOGS))).toBe(logs);
  return res;
}

describe('JSON arguments', () => {
  // {"s":"…"} is 8 bytes plus the string.
  const json = (bytes: number) => ({ s: 'x'.repeat(bytes - 8) });

  it('takes 65,536 bytes of JSON and refuses 65,537, naming the field', async () => {
    const ok = await t.gql(CREATE, { input: { title: 'json max', requirements: json(65_536) } });
    expect(ok.body.errors).toBeUndefined();
    await expectBadInput(
      CREATE,
      { input: { title: 'json over', requirements: json(65_537) } },
      'input.requirements',
      /65537 bytes of JSON; at most 65536 \(INPUT_MAX_JSON_BYTES\)/,
    );
  });

  it('takes 10,000 JSON values and refuses 10,001 (a 100,000-item list never reaches the database)', async () => {
    const values = (n: number) => ({ items: Array.from({ length: n - 2 }, () => 1) }); // the object, the list, the items
    expect((await t.gql(CREATE, { input: { title: 'nodes max', metadata: values(10_000) } })).body.errors).toBeUndefined();
    await expectBadInput(
      CREATE,
      { input: { title: 'nodes over', metadata: values(10_001) } },
      'input.metadata',
      /more than 10000 JSON values \(INPUT_MAX_JSON_NODES\)/,
    );
    await expectBadInput(
      CREATE,
      { input: { title: 'huge', requirements: { items: Array.from({ length: 100_000 }, (_, i) => i) } } },
      'input.requirements',
      /INPUT_MAX_JSON_NODES/,
    );
  });
});

describe('log entries', () => {
  const APPEND = `mutation($id: UUID!, $entries: [JSON!]!) { appendExecutionLog(input: { id: $id, entries: $entries }) { id } }`;
  // ["…"] is 4 bytes plus the string; two entries: ["…","…"] is 7 plus both.
  it('takes 65,536 bytes of entries per call and refuses 65,537', async () => {
    const ok = await t.gql(APPEND, { id: executionId, entries: ['a'.repeat(30_000), 'b'.repeat(65_536 - 7 - 30_000)] });
    expect(ok.body.errors).toBeUndefined();
    await expectBadInput(
      APPEND,
      { id: executionId, entries: ['a'.repeat(30_000), 'b'.repeat(65_537 - 7 - 30_000)] },
      'input.entries',
      /65537 bytes of JSON; at most 65536 per call \(INPUT_MAX_LOG_BYTES\)/,
    );
    // 1,000 entries of 900 bytes (900 KB) in one call: refused
    await expectBadInput(
      APPEND,
      { id: executionId, entries: Array.from({ length: 1_000 }, () => 'x'.repeat(900)) },
      'input.entries',
      /INPUT_MAX_LOG_BYTES/,
    );
  });
});

describe('lists (INPUT_MAX_LIST_ITEMS, at every depth)', () => {
  const TASKS = `query($f: TaskFilter) { tasks(filter: $f) { totalCount } }`;
  const statuses = (n: number) => Array.from({ length: n }, (_, i) => ['PENDING', 'COMPLETED'][i % 2]);
  const names = (n: number) => Array.from({ length: n }, (_, i) => `agent-${i}`);

  it('takes a 100-item enum list inside or, and refuses 101 as BAD_USER_INPUT naming the path', async () => {
    const ok = await t.gql(TASKS, { f: { or: [{ status: statuses(100) }] } });
    expect(ok.body.errors).toBeUndefined();
    await expectBadInput(
      TASKS,
      { f: { or: [{ status: statuses(101) }] } },
      'filter.or[0].status',
      /holds 101 items; at most 100 \(INPUT_MAX_LIST_ITEMS\)/,
    );
  });

  it('refuses 20,000 names inside and/not, 50,000 statuses at the top (100,000 exceed the body cap) and a 101-filter or', async () => {
    await expectBadInput(
      TASKS,
      { f: { and: [{ not: { assignedTo: names(20_000) } }] } },
      'filter.and[0].not.assignedTo',
      /INPUT_MAX_LIST_ITEMS/,
    );
    await expectBadInput(TASKS, { f: { status: statuses(50_000) } }, 'filter.status', /holds 50000 items/);
    await expectBadInput(TASKS, { f: { or: Array.from({ length: 101 }, () => ({ isRoot: true })) } }, 'filter.or', /INPUT_MAX_LIST_ITEMS/);
  });

  it('keeps the larger caps of recordMetrics (10,000) and appendExecutionLog (1,000)', async () => {
    const metrics = await t.gql(`mutation($m: [MetricInput!]!) { recordMetrics(input: $m) { count } }`, {
      m: Array.from({ length: 150 }, (_, i) => ({ category: 'caps', name: `m${i}`, value: i })),
    });
    expect(metrics.body.data).toEqual({ recordMetrics: { count: 150 } });
    const append = await t.gql(`mutation($id: UUID!, $e: [JSON!]!) { appendExecutionLog(input: { id: $id, entries: $e }) { id } }`, {
      id: executionId,
      e: Array.from({ length: 150 }, (_, i) => i),
    });
    expect(append.body.errors).toBeUndefined();
  });
});

describe('strings', () => {
  it('takes 100,000 characters and refuses 100,001, naming the field', async () => {
    expect((await t.gql(CREATE, { input: { title: 'long', description: 'q'.repeat(100_000) } })).body.errors).toBeUndefined();
    await expectBadInput(
      CREATE,
      { input: { title: 'longer', description: 'q'.repeat(100_001) } },
      'input.description',
      /100001 characters long; at most 100000 \(INPUT_MAX_STRING_LENGTH\)/,
    );
  });

  it('refuses a NUL character before the database: BAD_USER_INPUT, not INTERNAL_SERVER_ERROR', async () => {
    await expectBadInput(CREATE, { input: { title: 'a\u0000b' } }, 'input.title', /NUL character/);
    await expectBadInput(CREATE, { input: { title: 'ok', metadata: { note: 'a\u0000b' } } }, 'input.metadata', /NUL character/);
    await expectBadInput(CREATE, { input: { title: 'ok', metadata: { 'k\u0000': 1 } } }, 'input.metadata', /NUL character/);
    // inline in the document too
    const res = await t.gql(`mutation { createTask(input: { title: "a\\u0000b" }) { id } }`);
    expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.title' });
  });

  // JSON.stringify sends a lone surrogate as the escape "\ud800", which JSON.parse turns back into one.
  it('refuses an unpaired surrogate: jsonb would fail (INTERNAL_SERVER_ERROR), a text column would get U+FFFD', async () => {
    await expectBadInput(CREATE, { input: { title: '\udc00x' } }, 'input.title', /unpaired UTF-16 surrogate/);
    await expectBadInput(CREATE, { input: { title: 'ok', metadata: { note: 'a\ud800' } } }, 'input.metadata', /surrogate/);
    await expectBadInput(CREATE, { input: { title: 'ok', metadata: { '\udfff': 1 } } }, 'input.metadata', /surrogate .* in a key/);
    await expectBadInput(
      `mutation($id: UUID!, $entries: [JSON!]!) { appendExecutionLog(input: { id: $id, entries: $entries }) { id } }`,
      { id: executionId, entries: ['\ud800'] },
      'input.entries[0]',
      /surrogate/,
    );
    const read = await t.gql(`query($m: JSONObject) { tasks(filter: { metadataContains: $m }) { nodes { id } } }`, { m: { a: '\ud800' } });
    expect(read.body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'filter.metadataContains' });
    // a well-formed pair (an emoji) is stored as it is
    const ok = await t.gql(`${CREATE.replace('{ id }', '{ id title metadata }')}`, {
      input: { title: 'x \ud83d\ude00', metadata: { e: '\ud83d\ude00' } },
    });
    expect(ok.body.data.createTask).toMatchObject({ title: 'x 😀', metadata: { e: '😀' } });
  });

  it('refuses a JSON number beyond a double (1e400 parses as Infinity, which would be stored as null)', async () => {
    const before = await count();
    const res = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminToken}` },
      body: `{"query":${JSON.stringify(CREATE)},"variables":{"input":{"title":"big","metadata":{"n":1e400}}}}`,
    });
    const body = (await res.json()) as { errors?: { extensions?: Record<string, unknown> }[] };
    expect(body.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.metadata', reason: 'number' });
    expect(await count()).toBe(before);
  });
});

describe('timestamps', () => {
  it('refuses the year 0000 (valid RFC 3339, but PostgreSQL has no year 0) as BAD_USER_INPUT, writing nothing', async () => {
    const metrics = async () => (await t.db.query(`SELECT count(*)::int AS n FROM system_metrics WHERE metric_name = 'y0'`))[0].n as number;
    const write = await t.gql(
      `mutation($ts: DateTime) { recordMetric(input: { category: "c", name: "y0", value: 1, timestamp: $ts }) { id } }`,
      {
        ts: '0000-01-01T00:00:00Z',
      },
    );
    expect(write.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(write.body.errors?.[0].message).toMatch(/year 0001/);
    expect(await metrics()).toBe(0);
    const read = await t.gql(
      `{ metricSeries(name: "y0", from: "0000-01-01T00:00:00Z", to: "0000-01-02T00:00:00Z", bucket: "1h") { start } }`,
    );
    expect(read.body.errors?.[0].extensions?.code).toMatch(/GRAPHQL_VALIDATION_FAILED|BAD_USER_INPUT/);
    // the year 0001 is fine
    const first = await t.gql(
      `mutation { recordMetric(input: { category: "c", name: "y1", value: 1, timestamp: "0001-01-01T00:00:00Z" }) { timestamp } }`,
    );
    expect(first.body.data.recordMetric.timestamp).toBe('0001-01-01T00:00:00.000Z');
  });
});

describe('cursors and ids', () => {
  const PAGE = `query($after: String) { tasks(first: 1, after: $after) { nodes { id } } }`;
  it('refuses a cursor over 1,024 characters by its length; one of 1,024 is read as a cursor', async () => {
    const atCap = await t.gql(PAGE, { after: 'c'.repeat(1_024) });
    expect(atCap.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(atCap.body.errors?.[0].message).not.toMatch(/INPUT_MAX_CURSOR_LENGTH/); // malformed, but not too long
    await expectBadInput(PAGE, { after: 'c'.repeat(1_025) }, 'after', /1025 characters long; at most 1024 \(INPUT_MAX_CURSOR_LENGTH\)/);
  });

  it('never echoes more than 100 characters of a 100 KB id', async () => {
    const id = 'a'.repeat(100_000);
    const res = await t.gql(`query($id: UUID!) { task(id: $id) { id } }`, { id });
    expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    const text = JSON.stringify(res.body);
    expect(text.length).toBeLessThan(2_000);
    expect(text).not.toMatch(/a{101}/);
    const inline = await t.gql(`{ task(id: "${id}") { id } }`);
    expect(JSON.stringify(inline.body).length).toBeLessThan(2_000);
  });
});

describe('persisted queries', () => {
  const post = async (body: unknown) => {
    const res = await fetch(`${t.baseUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminToken}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  const sha = (q: string) => createHash('sha256').update(q).digest('hex');

  it('answers an unknown hash PERSISTED_QUERY_NOT_FOUND, a mismatched one BAD_REQUEST, never INTERNAL_SERVER_ERROR', async () => {
    const query = '{ __typename }';
    const unknown = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: sha('{ viewer { role } }') } } });
    expect(unknown.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const mismatch = await post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha('something else') } } });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    const badVersion = await post({ query, extensions: { persistedQuery: { version: 2, sha256Hash: sha(query) } } });
    expect(badVersion.body.errors[0].extensions.code).not.toBe('INTERNAL_SERVER_ERROR');
    const registered = await post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha(query) } } });
    expect(registered.body).toEqual({ data: { __typename: 'Query' }, extensions: expect.anything() });
  });
});

describe('introspection', () => {
  it('refuses a 50-deep __schema selection (graphql-depth-limit skips introspection fields)', async () => {
    const deep = `{ __schema { types { fields { type { ${'ofType { '.repeat(50)}name${' }'.repeat(50)} } } } } }`;
    const res = await t.gql(deep);
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors?.[0].message).toMatch(/introspection selection is 55 levels deep/);
  });
});
