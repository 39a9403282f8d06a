import { createHash } from 'node:crypto';
import { serverAudits } from 'graphql-http';
import { startTestGateway, type TestGateway } from './support/gateway';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ GRAPHQL_DEPTH_LIMIT: '4', GRAPHQL_BODY_LIMIT_BYTES: '2048' });
});
afterAll(() => t.close());

const auth = () => ({ authorization: `Bearer ${t.adminToken}` });
const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${t.baseUrl}/graphql`, { method: 'POST', headers: { ...auth(), ...headers }, body });

async function expectJsonError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/json/);
  const body = await res.json();
  expect(body.errors[0].extensions.code).toBe(code);
  expect(typeof body.errors[0].message).toBe('string');
  return body;
}

describe('GraphQL over HTTP', () => {
  // The graphql-http audit suite: every MUST must pass; SHOULDs are listed where Apollo differs.
  const audits = serverAudits({
    url: () => `${t.baseUrl}/graphql`,
    fetchFn: (input: string | URL, init: RequestInit = {}) =>
      fetch(input, { ...init, headers: { ...auth(), ...(init.headers as Record<string, string>) } }),
  });
  for (const audit of audits.filter((a) => a.name.startsWith('MUST'))) {
    it(audit.name, async () => {
      const result = await audit.fn();
      expect(result).toMatchObject({ status: 'ok' });
    });
  }

  it('passes all 13 MUST and all 23 SHOULD audits', async () => {
    const tally = { MUST: { ok: 0, all: 0 }, SHOULD: { ok: 0, all: 0 } };
    const failing: string[] = [];
    for (const audit of audits.filter((a) => a.name.startsWith('MUST') || a.name.startsWith('SHOULD'))) {
      const level = audit.name.startsWith('MUST') ? 'MUST' : 'SHOULD';
      const result = await audit.fn();
      tally[level].all += 1;
      if (result.status === 'ok') tally[level].ok += 1;
      else failing.push(`${audit.name}: ${result.reason}`);
    }
    expect(failing).toEqual([]);
    expect(tally).toEqual({ MUST: { ok: 13, all: 13 }, SHOULD: { ok: 23, all: 23 } });
  });

  it('keeps 4xx for the same failures with application/graphql-response+json or any type accepted', async () => {
    for (const accept of ['application/graphql-response+json', '*/*']) {
      const parse = await post(JSON.stringify({ query: '{' }), { 'content-type': 'application/json', accept });
      expect([accept, parse.status]).toEqual([accept, 400]);
      const validation = await post(JSON.stringify({ query: '{ nope }' }), { 'content-type': 'application/json', accept });
      expect([accept, validation.status]).toEqual([accept, 400]);
    }
    const legacy = await post(JSON.stringify({ query: '{ nope }' }), { 'content-type': 'application/json', accept: 'application/json' });
    expect(legacy.status).toBe(200);
    expect((await legacy.json()).errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const coercion = await post(JSON.stringify({ query: 'query($id: UUID!) { task(id: $id) { id } }', variables: { id: 7 } }), {
      'content-type': 'application/json',
      accept: 'application/json',
    });
    expect(coercion.status).toBe(200);
    expect((await coercion.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');
  });

  it('serves queries over GET', async () => {
    const res = await fetch(`${t.baseUrl}/graphql?query=${encodeURIComponent('{ tasks { nodes { id } } }')}`, {
      headers: { ...auth(), accept: 'application/graphql-response+json', 'apollo-require-preflight': 'true' },
    });
    expect(res.status).toBe(200);
    expect((await res.json()).data).toEqual({ tasks: { nodes: [] } });
  });

  it('supports automatic persisted queries: a hash alone once the query was sent with it', async () => {
    const query = '{ tasks(first: 1) { nodes { id } } }';
    const persistedQuery = { version: 1, sha256Hash: createHash('sha256').update(query).digest('hex') };
    const unknown = await post(JSON.stringify({ extensions: { persistedQuery } }));
    expect((await unknown.json()).errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const registered = await post(JSON.stringify({ query, extensions: { persistedQuery } }));
    expect((await registered.json()).data).toEqual({ tasks: { nodes: [] } });
    const byHash = await post(JSON.stringify({ extensions: { persistedQuery } }));
    expect(byHash.status).toBe(200);
    expect((await byHash.json()).data).toEqual({ tasks: { nodes: [] } });
  });

  it('marks answers as not cacheable, over GET and POST, errors included', async () => {
    const get = await fetch(`${t.baseUrl}/graphql?query=${encodeURIComponent('{ tasks { nodes { id } } }')}`, {
      headers: { ...auth(), 'apollo-require-preflight': 'true' },
    });
    const ok = await post(JSON.stringify({ query: '{ tasks { nodes { id } } }' }));
    const refused = await post(JSON.stringify({ query: '{ nope }' }));
    for (const res of [get, ok, refused]) expect(res.headers.get('cache-control')).toBe('no-store');
    expect(refused.status).toBe(400);
  });

  it('refuses a mutation over GET without running it', async () => {
    const q = encodeURIComponent('mutation { createTask(input: { title: "via GET" }) { id } }');
    const res = await fetch(`${t.baseUrl}/graphql?query=${q}`, { headers: { ...auth(), 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(405);
    expect(await t.db.query('SELECT 1 FROM tasks')).toHaveLength(0);
  });

  it('answers malformed JSON with a 400 JSON GraphQL error', async () => {
    await expectJsonError(await post('{"query": '), 400, 'BAD_REQUEST');
  });

  it('answers a wrong content type with a 415 JSON GraphQL error', async () => {
    await expectJsonError(await post('query { tasks { nodes { id } } }', { 'content-type': 'text/plain' }), 415, 'BAD_REQUEST');
  });

  it('answers a body over the limit with a 413 JSON GraphQL error', async () => {
    await expectJsonError(
      await post(JSON.stringify({ query: `{ tasks { nodes { id } } } #${'x'.repeat(4096)}` })),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('answers unknown routes with a 404 JSON error, not an HTML page', async () => {
    await expectJsonError(await fetch(`${t.baseUrl}/nope`), 404, 'NOT_FOUND');
  });

  it('refuses a query deeper than the limit with a 400', async () => {
    const res = await post(JSON.stringify({ query: '{ tasks { nodes { parent { parent { parent { parent { id } } } } } } }' }));
    const body = await expectJsonError(res, 400, 'GRAPHQL_VALIDATION_FAILED');
    expect(body.errors[0].message).toMatch(/exceeds maximum operation depth of 4/);
  });

  it('answers a spread of an unknown fragment with a 400 validation error (graphql-depth-limit would crash)', async () => {
    const body = await expectJsonError(
      await post(JSON.stringify({ query: '{ tasks { nodes { ...Missing } } }' })),
      400,
      'GRAPHQL_VALIDATION_FAILED',
    );
    expect(body.errors[0].message).toMatch(/Unknown fragment "Missing"/);
  });

  it('answers a fragment cycle with a 400 validation error', async () => {
    const query = 'query { tasks { nodes { ...A } } } fragment A on Task { ...B } fragment B on Task { ...A }';
    const body = await expectJsonError(await post(JSON.stringify({ query })), 400, 'GRAPHQL_VALIDATION_FAILED');
    expect(body.errors.map((e: any) => e.message).join(' ')).toMatch(/Cannot spread fragment "A" within itself/);
  });

  it('answers a syntax error with a 400', async () => {
    await expectJsonError(await post(JSON.stringify({ query: '{ tasks { nodes { id ' })), 400, 'GRAPHQL_PARSE_FAILED');
  });

  it('echoes a given X-Request-Id and makes one when absent', async () => {
    const given = await post(JSON.stringify({ query: '{ tasks { nodes { id } } }' }), {
      'content-type': 'application/json',
      'x-request-id': 'req-123',
    });
    expect(given.headers.get('x-request-id')).toBe('req-123');
    const made = await post(JSON.stringify({ query: '{ tasks { nodes { id } } }' }));
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps answering after all of the above', async () => {
    const res = await t.gql('{ tasks { nodes { id } } }');
    expect(res.status).toBe(200);
    expect((await fetch(`${t.baseUrl}/health`)).status).toBe(200);
  });
});
