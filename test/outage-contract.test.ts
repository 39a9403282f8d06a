import { startTestGateway, type TestGateway } from './support/gateway';

/*
 * Which answers keep partial data: a statement cancelled by the statement timeout (a table locked
 * elsewhere) is an outage for its field (SERVICE_UNAVAILABLE). With nothing else resolved the
 * answer is HTTP 503 + Retry-After; beside a field that did resolve (poolHealth), HTTP 200 with
 * the data and the per-field error.
 */
let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ DB_STATEMENT_TIMEOUT: '300', DB_POOL_MAX: '2' });
});
afterAll(() => t.close());

it('answers 503 when nothing resolved and 200 with partial data when something did', async () => {
  await t.db.query('BEGIN');
  await t.db.query('LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE');
  try {
    const none = await t.gql('{ tasks(first: 1) { nodes { id } } }');
    expect([none.status, none.headers.get('retry-after'), none.body.data ?? null]).toEqual([503, expect.stringMatching(/^\d+$/), null]);
    expect(none.body.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(JSON.stringify(none.body)).not.toMatch(/canceling statement|statement_timeout|SELECT|FROM/i);

    // tasks is non-null (its error nulls the whole answer); task(id) is nullable.
    const partial = await t.gql('{ poolHealth { status } task(id: "00000000-0000-0000-0000-000000000000") { id } }');
    expect(partial.status).toBe(200);
    expect(partial.headers.get('retry-after')).toBeNull();
    expect(partial.body.data).toEqual({ poolHealth: { status: expect.any(String) }, task: null });
    expect(partial.body.errors).toMatchObject([{ path: ['task'], extensions: { code: 'SERVICE_UNAVAILABLE' } }]);

    // /ready turns 503 while requests fail and the pool is full (both connections wait on the lock),
    // though the database answers SELECT 1.
    const blocked = [1, 2, 3, 4].map(() => t.gql('{ tasks(first: 1) { nodes { id } } }'));
    await new Promise((r) => setTimeout(r, 100));
    const ready = await fetch(`${t.baseUrl}/ready`);
    expect([ready.status, await ready.json()]).toEqual([503, { status: 'not ready', reason: 'connections_exhausted' }]);
    await Promise.all(blocked);
  } finally {
    await t.db.query('ROLLBACK');
  }
  const after = await t.gql('{ tasks(first: 1) { nodes { id } } }');
  expect([after.status, after.body.errors]).toEqual([200, undefined]);
  // The pool as it is: idle again, so /ready is 200 at once, refusals of a second ago or not.
  const ready = await fetch(`${t.baseUrl}/ready`);
  expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
});
