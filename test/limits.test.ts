import { Role } from '../src/auth/roles';
import { startTestGateway, type TestGateway } from './support/gateway';
import { createTestDatabase } from './support/database';
import { itWithRedis, testRedisUrl } from './support/redis';

describe('query cost', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ GRAPHQL_MAX_COST: '500', RATE_LIMIT_PER_MINUTE: '100000' });
  });
  afterAll(() => t.close());

  it('refuses an operation over the per-query maximum before any SQL runs, with its cost in the error', async () => {
    // 6 connections of 100 entries each: 6 * 100
    const fields = Array.from({ length: 6 }, (_, i) => `a${i}: auditLog(first: 100) { edges { node { id operation } } }`).join(' ');
    const res = await t.gql(`{ ${fields} }`);
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0].extensions).toEqual({ code: 'COST_LIMIT_EXCEEDED', cost: 600, maxCost: 500 });
    expect(res.body.errors?.[0].message).toMatch(/costs 600 points, more than the 500 allowed/);
    expect(res.body.data).toBeUndefined();
    expect(res.headers.get('x-sql-statements')).toBe('0');
  });

  it('counts first/last from variables and fragments', async () => {
    const big = await t.gql(
      `query($n: Int!) { a: auditLog(first: $n) { ...F } b: apiTokens(first: $n) { id } } fragment F on AuditEntryConnection { nodes { id } }`,
      { n: 100 },
    );
    expect(big.body.errors).toBeUndefined(); // 100 + 100 <= 500
    expect(big.body.extensions?.cost.requested).toBe(200);
    const bigger = await t.gql(
      `query($n: Int!) { a: auditLog(first: $n) { ...F } b: auditLog(first: $n) { ...F } c: auditLog(first: $n) { ...F } d: apiTokens(first: $n) { id } e: apiTokens(first: $n) { id } f: apiTokens(first: $n) { id } } fragment F on AuditEntryConnection { nodes { id } }`,
      { n: 100 },
    );
    expect(bigger.body.errors?.[0].extensions).toMatchObject({ code: 'COST_LIMIT_EXCEEDED', cost: 600, maxCost: 500 });
  });

  it('puts extensions.cost on every response, errors included', async () => {
    const ok = await t.gql(`{ apiTokens(first: 10) { id } }`);
    expect(ok.body.extensions?.cost).toMatchObject({ requested: 10, limit: 100000 });
    expect(typeof ok.body.extensions?.cost.remaining).toBe('number');
    expect(new Date(ok.body.extensions?.cost.resetAt).getTime()).toBeGreaterThan(Date.now());
    const invalid = await t.gql(`{ nope }`);
    expect(invalid.status).toBe(400);
    expect(invalid.body.extensions?.cost).toMatchObject({ requested: 0 });
    const syntax = await t.gql(`{ apiTokens(`);
    expect(syntax.body.extensions?.cost).toMatchObject({ requested: 0 });
  });
});

describe('per-minute budget', () => {
  it('is shared by two gateway instances on one database, reported by Query.rateLimit, and refused with 429 when spent', async () => {
    const db = await createTestDatabase();
    const env = { RATE_LIMIT_PER_MINUTE: '100', GRAPHQL_MAX_COST: '100' };
    const a = await startTestGateway(env, { database: db });
    const b = await startTestGateway(env, { database: db });
    try {
      // both gateways authenticate the same token (issued by a)
      const token = { authorization: `Bearer ${a.adminToken}` };
      let spent = 0;
      // wait for a fresh minute window if this one is about to end, so the test is not split by it
      const first = await a.gql(`{ rateLimit { limit cost remaining resetAt } }`, undefined, token);
      if (new Date(first.body.data.rateLimit.resetAt).getTime() - Date.now() < 10_000) {
        await new Promise((r) => setTimeout(r, new Date(first.body.data.rateLimit.resetAt).getTime() - Date.now() + 200));
      }
      const before = (await a.gql(`{ rateLimit { limit cost remaining resetAt } }`, undefined, token)).body.data.rateLimit;
      expect(before.limit).toBe(100);
      expect(before.cost).toBe(1); // rateLimit is a wrapper without an id: the least a request costs
      spent = 100 - before.remaining;

      const onA = await a.gql(`{ apiTokens(first: 40) { id } }`, undefined, token);
      expect(onA.body.errors).toBeUndefined();
      expect(onA.body.extensions?.cost).toMatchObject({ requested: 40, remaining: 100 - spent - 40 });
      const onB = await b.gql(`{ apiTokens(first: 40) { id } rateLimit { cost remaining } }`, undefined, token);
      expect(onB.body.errors).toBeUndefined();
      expect(onB.body.data.rateLimit).toEqual({ cost: 40, remaining: 100 - spent - 80 });

      const refused = await a.gql(`{ apiTokens(first: 40) { id } }`, undefined, token);
      expect(refused.status).toBe(429);
      expect(refused.body.errors?.[0].extensions).toMatchObject({ code: 'RATE_LIMITED', cost: 40, remaining: 100 - spent - 80 });
      expect(new Date(refused.body.errors?.[0].extensions?.resetAt).getTime()).toBeGreaterThan(Date.now() - 1000);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(refused.headers.get('x-sql-statements')).toBe('0');
      // what is left is still usable, on either instance
      const small = await b.gql(`{ apiTokens(first: 5) { id } }`, undefined, token);
      expect(small.body.errors).toBeUndefined();

      // another token has its own budget
      const other = await b.token('admin' as any);
      const fresh = await b.gql(`{ apiTokens(first: 40) { id } }`, undefined, { authorization: `Bearer ${other.token}` });
      expect(fresh.status).toBe(200);
      expect(fresh.body.errors).toBeUndefined();
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });

  it('takes the budget from the store in leases of 1 %, never letting two instances spend more than the limit', async () => {
    const db = await createTestDatabase();
    const env = { RATE_LIMIT_PER_MINUTE: '1000', GRAPHQL_MAX_COST: '1000' }; // leases of 10 points
    const a = await startTestGateway(env, { database: db });
    const b = await startTestGateway(env, { database: db });
    try {
      const token = { authorization: `Bearer ${a.adminToken}` };
      const query = `{ apiTokens(first: 4) { id } }`; // 4 points
      // the probe asks with a token of its own: every request spends at least 1 point (and a lease here)
      const other = await a.token(Role.VIEWER);
      const probe = await a.gql(`{ rateLimit { resetAt } }`, undefined, { authorization: `Bearer ${other.token}` });
      const left = new Date(probe.body.data.rateLimit.resetAt).getTime() - Date.now();
      if (left < 20_000) await new Promise((r) => setTimeout(r, left + 200)); // one minute window throughout
      const [{ id }] = await db.query(`SELECT id FROM api_tokens WHERE token_hash = encode(sha256($1::bytea), 'hex')`, [a.adminToken]);
      const key = `token:${id}`;
      const storeSpent = async () =>
        Number((await db.query(`SELECT coalesce(sum(spent), 0) AS s FROM rate_limit_windows WHERE budget_key = $1`, [key]))[0].s);
      const base = await storeSpent();

      // three requests on each instance: 12 points each, taken as two leases of 10 from the store
      for (const g of [a, b, a, b, a, b]) expect((await g.gql(query, undefined, token)).status).toBe(200);
      expect((await storeSpent()) - base).toBe(40);

      let allowed = 24;
      for (let i = 0; i < 400; i++) {
        const res = await (i % 2 ? b : a).gql(query, undefined, token);
        if (res.status === 429) {
          expect(res.body.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
          continue;
        }
        expect(res.status).toBe(200);
        allowed += 4;
      }
      expect(base + allowed).toBeLessThanOrEqual(1000);
      expect(base + allowed).toBeGreaterThan(1000 - 3 * 10); // at most a lease left unspent per instance, and the store's rest
      expect(await storeSpent()).toBeLessThanOrEqual(1000);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });

  itWithRedis('can keep the counters in Redis instead', async () => {
    const db = await createTestDatabase();
    const env = { RATE_LIMIT_STORE: 'redis', REDIS_URL: testRedisUrl, RATE_LIMIT_PER_MINUTE: '50', GRAPHQL_MAX_COST: '50' };
    const a = await startTestGateway(env, { database: db });
    const b = await startTestGateway(env, { database: db });
    try {
      const token = { authorization: `Bearer ${a.adminToken}` };
      const r1 = await a.gql(`{ apiTokens(first: 30) { id } }`, undefined, token);
      expect(r1.body.extensions?.cost).toMatchObject({ requested: 30, remaining: 20 });
      const r2 = await b.gql(`{ apiTokens(first: 30) { id } }`, undefined, token);
      if (r2.status === 200) {
        // the minute turned between the two requests: a fresh window
        expect(r2.body.extensions?.cost).toMatchObject({ requested: 30, remaining: 20 });
      } else {
        expect(r2.status).toBe(429);
        expect(r2.body.errors?.[0].extensions?.code).toBe('RATE_LIMITED');
      }
      expect(await db.query('SELECT * FROM rate_limit_windows')).toEqual([]);
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});
