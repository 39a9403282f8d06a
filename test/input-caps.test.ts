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
  const logs = JSON.stringify(await t.db.query(`SELECT logs FROM task_executions`));
  const res = await t.gql(query, variables);
  expect(res.body.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field }, message: expect.stringMatching(message) });
  expect(await count()).toBe(before);
  expect(JSON.stringify(await t.db.query(`SELECT logs FROM task_executions`))).toBe(logs);
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
