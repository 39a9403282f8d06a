import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startPgCluster, type PgCluster } from './support/pg-cluster';
import { Role } from '../src/auth/roles';
import { startTestGateway, type TestGateway } from './support/gateway';
import type { TestDatabase } from './support/database';
import { describeWithRedis, testRedisUrl } from './support/redis';

/*
 * A request that executed nothing (no SQL sent, no data answered) gets its charge back from the
 * per-minute budget; one that ran keeps it. Budgets here are small, so a refused request charged
 * for good would exhaust them within a few requests.
 */

const NO_TASK = '00000000-0000-0000-0000-000000000000';

/**
 * Waits for the next minute window when this one ends within `margin` ms, so a test is not split by
 * it. Asks with a token of its own: every request spends at least 1 point, and not from t.gql's budget.
 */
async function freshWindow(t: TestGateway, margin: number): Promise<void> {
  const { token } = await t.token(Role.VIEWER);
  const probe = await t.gql(`{ rateLimit { resetAt } }`, undefined, { authorization: `Bearer ${token}` });
  const left = new Date(probe.body.data.rateLimit.resetAt).getTime() - Date.now();
  if (left < margin) await new Promise((r) => setTimeout(r, left + 200));
}

describe('a request refused before it executed', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ RATE_LIMIT_PER_MINUTE: '300', GRAPHQL_MAX_COST: '300' });
  });
  afterAll(() => t.close());

  it('costs nothing, however often it is sent; a request that ran SQL spends, errors or not', async () => {
    await freshWindow(t, 20_000);
    const [{ id }] = await t.db.query(`SELECT id FROM api_tokens WHERE token_hash = encode(sha256($1::bytea), 'hex')`, [t.adminToken]);
    const storeSpent = async () =>
      Number((await t.db.query(`SELECT coalesce(sum(spent), 0) AS s FROM rate_limit_windows WHERE budget_key = $1`, [`token:${id}`]))[0].s);

    const refused: [string, Record<string, unknown> | undefined, string][] = [
      [`{ tasks(first: 101) { nodes { id } } }`, undefined, 'BAD_USER_INPUT'], // costs 100 (a page over 100 counts as 100)
      [`query($n: Int!) { tasks(first: $n) { nodes { id } } }`, { n: 'many' }, 'BAD_USER_INPUT'], // variable refused at execution
      [`mutation { createTask(input: { title: "" }) { id } }`, undefined, 'BAD_USER_INPUT'],
      [`{ nope }`, undefined, 'GRAPHQL_VALIDATION_FAILED'], // refused before it was charged
    ];
    // 5 rounds: over 1,000 points asked of a 300-point budget
    for (let round = 0; round < 5; round++) {
      for (const [query, variables, code] of refused) {
        const res = await t.gql(query, variables);
        expect(res.body.errors?.[0].extensions?.code).toBe(code);
        expect(res.headers.get('x-sql-statements')).toBe('0');
        // the answer reports the refund: nothing requested, the whole budget left
        expect(res.body.extensions?.cost).toMatchObject({ requested: 0, remaining: 300, limit: 300 });
        expect(res.headers.get('x-ratelimit-remaining')).toBe('300');
      }
    }
    // The store still counts the first refused charge: it went back to this instance's lease, not
    // to the store, whose count never goes down.
    expect(await storeSpent()).toBe(100);

    // A write that ran its statement and failed (NOT_FOUND) keeps its charge: 10 + 1 points.
    const missing = await t.gql(`mutation { updateTaskStatus(input: { id: "${NO_TASK}", status: COMPLETED }) { id } }`);
    expect(missing.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect(Number(missing.headers.get('x-sql-statements'))).toBeGreaterThan(0);
    expect(missing.body.extensions?.cost).toMatchObject({ requested: 11, remaining: 289 });

    // Reads that ran spend their 100 points each, until the budget is spent.
    const page = `{ tasks(first: 100) { nodes { id } } }`;
    for (const remaining of [189, 89]) {
      const ok = await t.gql(page);
      expect(ok.status).toBe(200);
      expect(ok.body.errors).toBeUndefined();
      expect(ok.body.extensions?.cost).toMatchObject({ requested: 100, remaining });
      expect(ok.headers.get('x-ratelimit-remaining')).toBe(String(remaining));
    }
    const over = await t.gql(page);
    expect(over.status).toBe(429);
    expect(over.body.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', cost: 100, remaining: 89 });
    expect(await storeSpent()).toBeLessThanOrEqual(300);
  }, 60_000);
});

describeWithRedis('a request refused during a database outage', () => {
  let dir: string;
  let port: number;
  let pg: PgCluster | undefined;
  let t: TestGateway;
  const startPg = () => startPgCluster(join(dir, 'data'), port, 'refund');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tm-refund-'));
    chmodSync(dir, 0o755); // as root, PostgreSQL runs as an unprivileged user that must reach it
    port = await freePort();
    pg = await startPg();
    const database = {
      name: 'refund',
      url: `postgres://postgres:postgres@127.0.0.1:${port}/refund`,
      query: () => Promise.reject(new Error('not used')),
      drop: async () => undefined,
    } as TestDatabase;
    // Counters in Redis, which stays up while the gateway's database is down: without refunds
    // every 503 would spend from the budget.
    t = await startTestGateway(
      {
        RATE_LIMIT_STORE: 'redis',
        REDIS_URL: testRedisUrl,
        RATE_LIMIT_PER_MINUTE: '20',
        GRAPHQL_MAX_COST: '20',
        DB_POOL_CONNECTION_TIMEOUT: '1000',
      },
      { database },
    );
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('costs nothing: a client retrying through the outage still has its budget when the database is back', async () => {
    await freshWindow(t, 30_000);
    const read = `{ task(id: "${NO_TASK}") { id } }`; // 1 point
    const before = await t.gql(read);
    expect(before.status).toBe(200);
    expect(before.body.extensions?.cost).toMatchObject({ requested: 1, remaining: 19 });

    await pg!.stop();
    pg = undefined;
    for (let i = 0; i < 60; i++) {
      const res = await t.gql(read);
      expect([res.status, res.body.errors?.[0].extensions?.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.body.extensions?.cost).toMatchObject({ requested: 0, remaining: 19 });
    }

    pg = await startPg();
    const until = Date.now() + 15_000;
    while ((await fetch(`${t.baseUrl}/ready`)).status !== 200) {
      if (Date.now() > until) throw new Error('the gateway did not become ready after the restart');
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = await t.gql(read);
    expect(after.status).toBe(200);
    expect(after.body.errors).toBeUndefined();
    expect(after.body.extensions?.cost).toMatchObject({ requested: 1, remaining: 18 });
  }, 60_000);
});
