import type { Pool } from 'pg';
import { startTestGateway, type TestGateway } from './support/gateway';

const POOL_HEALTH = `{ poolHealth {
  status reasons checkedAt
  pool { total idle active waiting max min utilizationPercent }
  database { connected responseTimeMs serverVersion sizeBytes connections maxConnections cacheHitRatio deadlocks longestQuerySeconds }
  migrations { applied pending }
  replicas { name lagSeconds }
  thresholds { responseTimeMs poolUtilizationPercent errorRatePercent checkTimeoutMs }
} }`;

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({
    DB_POOL_MAX: '3',
    DB_POOL_MIN: '0',
    DB_POOL_MAX_LIFETIME: '600',
    DB_POOL_MAX_USES: '5000',
    HEALTH_MONITOR_ENABLED: 'false',
    // the test counts the pool's connections: nothing polling beside its requests
    WEBHOOK_DISPATCH_ENABLED: 'false',
  });
});
afterAll(() => t.close());

/** Holds one of the gateway's own pool connections busy for `seconds`. */
function holdConnection(seconds: number): Promise<unknown> {
  return t.gateway.dataSource.query('SELECT pg_sleep($1)', [seconds]);
}

async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pgPool = () => (t.gateway.dataSource.driver as unknown as { master: Pool }).master;

describe('Query.poolHealth', () => {
  it('reports a healthy pool and database with its figures, thresholds and migrations', async () => {
    const res = await t.gql(POOL_HEALTH);
    expect(res.body.errors).toBeUndefined();
    const h = res.body.data.poolHealth;
    expect(h.status).toBe('HEALTHY');
    expect(h.reasons).toEqual([]);
    expect(h.pool).toMatchObject({ max: 3, min: 0, waiting: 0 });
    expect(h.database.connected).toBe(true);
    expect(h.database.responseTimeMs).toBeGreaterThan(0);
    expect(h.database.serverVersion).toMatch(/^\d+/);
    expect(h.database.sizeBytes).toBeGreaterThan(1_000_000);
    expect(h.database.connections).toBeGreaterThanOrEqual(2); // the pool's and the health check's own
    expect(h.database.maxConnections).toBeGreaterThan(0);
    expect(h.database.cacheHitRatio).toBeGreaterThan(0);
    expect(h.database.cacheHitRatio).toBeLessThanOrEqual(1);
    expect(h.database.deadlocks).toBe(0);
    expect(h.database.longestQuerySeconds).toBeGreaterThanOrEqual(0);
    expect(h.migrations).toEqual({ applied: t.gateway.dataSource.migrations.length, pending: [] });
    expect(h.replicas).toEqual([]);
    expect(h.thresholds).toEqual({ responseTimeMs: 1000, poolUtilizationPercent: 80, errorRatePercent: 5, checkTimeoutMs: 800 });
    expect(Date.now() - new Date(h.checkedAt).getTime()).toBeLessThan(60_000);
  });

  it('never exposes the connection string', async () => {
    const res = await t.gql(POOL_HEALTH);
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(t.db.url);
    expect(text).not.toMatch(/postgres(ql)?:\/\//);
  });

  it('passes the pool settings to the pg pool', () => {
    expect(pgPool().options).toMatchObject({ max: 3, min: 0, maxLifetimeSeconds: 600, maxUses: 5000, connectionTimeoutMillis: 5000 });
  });

  it('counts connections held busy (pg_sleep) as active and the rest as idle', async () => {
    // Open a third connection, then let it go idle, so that idle is seen as well as active.
    await Promise.all([holdConnection(0.05), holdConnection(0.05), holdConnection(0.05)]);
    const busy = [holdConnection(2), holdConnection(2)];
    await waitFor(() => pgPool().idleCount === 1 && pgPool().totalCount === 3);
    const res = await t.gql(POOL_HEALTH);
    await Promise.all(busy);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.poolHealth.pool).toMatchObject({ total: 3, active: 2, idle: 1, waiting: 0, utilizationPercent: 66.7 });
    expect(res.body.data.poolHealth.database.longestQuerySeconds).toBeGreaterThan(0);
  });

  it('reports waiting requests when the pool is exhausted, and still answers within 1 s', async () => {
    const busy = [holdConnection(3), holdConnection(3), holdConnection(3), holdConnection(3), holdConnection(3)];
    await waitFor(() => pgPool().waitingCount === 2);
    const started = Date.now();
    const res = await t.gql(POOL_HEALTH);
    const elapsed = Date.now() - started;
    expect(res.body.errors).toBeUndefined();
    const h = res.body.data.poolHealth;
    expect(h.pool).toMatchObject({ total: 3, active: 3, idle: 0, waiting: 2, utilizationPercent: 100 });
    expect(h.status).toBe('DEGRADED');
    expect(h.reasons).toEqual(expect.arrayContaining(['pool utilisation 100% is over 80%', '2 request(s) waiting for a pool connection']));
    expect(h.database.connected).toBe(true);
    expect(elapsed).toBeLessThan(1_000);
    // /ready uses the dedicated connection too: the exhausted pool does not make it fail or wait.
    const ready = await fetch(`${t.baseUrl}/ready`);
    expect(ready.status).toBe(200);
    await Promise.all(busy);
  });

  it('reports pending migrations as DEGRADED (naming them) and /ready as 503 with a reason code only', async () => {
    const [last] = await t.db.query(`SELECT id, "timestamp", name FROM typeorm_migrations ORDER BY id DESC LIMIT 1`);
    await t.db.query(`DELETE FROM typeorm_migrations WHERE id = $1`, [last.id]);
    try {
      const res = await t.gql(POOL_HEALTH);
      expect(res.body.data.poolHealth.status).toBe('DEGRADED');
      expect(res.body.data.poolHealth.migrations.pending).toEqual([last.name]);
      const ready = await fetch(`${t.baseUrl}/ready`);
      expect(ready.status).toBe(503);
      const body = await ready.json();
      expect(body).toEqual({ status: 'not ready', reason: 'migrations_pending' });
    } finally {
      await t.db.query(`INSERT INTO typeorm_migrations (id, "timestamp", name) VALUES ($1, $2, $3)`, [last.id, last.timestamp, last.name]);
    }
    expect((await fetch(`${t.baseUrl}/ready`)).status).toBe(200);
  });
});

describe('HTTP probes', () => {
  it('GET /health answers ok (liveness; database-free: see database-outage.test.ts)', async () => {
    const res = await fetch(`${t.baseUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('GET /ready answers 200 when the database is reachable and up to date', async () => {
    const res = await fetch(`${t.baseUrl}/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });
  });
});
