import { ConfigError, loadConfig } from '../config';
import { dataSourceOptions, NO_CATALOGUE } from '../db/data-source';
import { GatewayMetrics } from './prometheus';

const base = { DATABASE_URL: 'postgres://u@localhost/db' };

describe('health and pool settings', () => {
  it("defaults to the original design's intervals and thresholds", () => {
    expect(loadConfig(base).health).toEqual({
      monitorEnabled: true,
      checkIntervalMs: 30_000,
      performanceIntervalMs: 60_000,
      checkTimeoutMs: 800,
      thresholds: { responseTimeMs: 1_000, poolUtilizationPercent: 80, errorRatePercent: 5 },
    });
  });

  it('reads every variable', () => {
    const health = loadConfig({
      ...base,
      HEALTH_MONITOR_ENABLED: 'false',
      HEALTH_CHECK_INTERVAL_MS: '5000',
      HEALTH_PERFORMANCE_INTERVAL_MS: '10000',
      HEALTH_CHECK_TIMEOUT_MS: '500',
      HEALTH_RESPONSE_TIME_THRESHOLD_MS: '250',
      HEALTH_POOL_UTILIZATION_THRESHOLD: '90',
      HEALTH_ERROR_RATE_THRESHOLD: '1',
    }).health;
    expect(health).toEqual({
      monitorEnabled: false,
      checkIntervalMs: 5_000,
      performanceIntervalMs: 10_000,
      checkTimeoutMs: 500,
      thresholds: { responseTimeMs: 250, poolUtilizationPercent: 90, errorRatePercent: 1 },
    });
  });

  it.each([
    [{ HEALTH_CHECK_INTERVAL_MS: '10' }, 'HEALTH_CHECK_INTERVAL_MS'],
    [{ HEALTH_CHECK_TIMEOUT_MS: '2000', HEALTH_CHECK_INTERVAL_MS: '1000' }, 'HEALTH_CHECK_TIMEOUT_MS'],
    [{ HEALTH_POOL_UTILIZATION_THRESHOLD: '101' }, 'HEALTH_POOL_UTILIZATION_THRESHOLD'],
    [{ HEALTH_ERROR_RATE_THRESHOLD: 'five' }, 'HEALTH_ERROR_RATE_THRESHOLD'],
    [{ HEALTH_MONITOR_ENABLED: 'maybe' }, 'HEALTH_MONITOR_ENABLED'],
    [{ DB_POOL_MAX_LIFETIME: '-1' }, 'DB_POOL_MAX_LIFETIME'],
    [{ DB_POOL_MAX_USES: '1.5' }, 'DB_POOL_MAX_USES'],
    [{ DB_POOL_MIN: '20', DB_POOL_MAX: '10' }, 'DB_POOL_MIN'],
    [{ DB_POOL_CONNECTION_TIMEOUT: '0' }, 'DB_POOL_CONNECTION_TIMEOUT'],
  ])('refuses %j at start-up, naming %s', (env, variable) => {
    let error: unknown;
    try {
      loadConfig({ ...base, ...env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe(variable);
  });

  it('gives the pg pool a maximum lifetime and number of uses per connection', () => {
    expect(dataSourceOptions(loadConfig(base).db, NO_CATALOGUE).extra).toMatchObject({ maxLifetimeSeconds: 1_800, maxUses: Infinity });
    const db = loadConfig({ ...base, DB_POOL_MAX_LIFETIME: '0', DB_POOL_MAX_USES: '7500' }).db;
    expect(dataSourceOptions(db, NO_CATALOGUE).extra).toMatchObject({ maxLifetimeSeconds: 0, maxUses: 7_500 });
  });
});

describe('gateway figures', () => {
  it('computes requests per second, p95 and the server-side error rate over a window, then starts a new one', async () => {
    const metrics = new GatewayMetrics(() => ({ total: 0, idle: 0, waiting: 0, max: 1, min: 0 }));
    const start = Date.now();
    await metrics.takeWindow(start);
    for (let i = 1; i <= 20; i++) metrics.observeRequest('Q', i === 20 ? ['SERVICE_UNAVAILABLE'] : [], i);
    metrics.observeRequest('Q', ['NOT_FOUND'], 1);
    const window = await metrics.takeWindow(start + 10_000);
    expect(window).toEqual({
      requests: 21,
      requestsPerSecond: 2.1,
      p95LatencyMs: expect.any(Number),
      errorRatePercent: 4.762,
      errors: 1,
      seconds: 10,
    });
    // The 95th percentile by nearest rank, the 20th of 21 sorted durations, within 0.1 %.
    expect(window.p95LatencyMs).toBeGreaterThanOrEqual(19);
    expect(window.p95LatencyMs).toBeLessThan(19.02);
    expect(await metrics.takeWindow(start + 20_000)).toMatchObject({
      requests: 0,
      requestsPerSecond: 0,
      p95LatencyMs: 0,
      errorRatePercent: 0,
    });
  });

  it('estimates the p95 of a busy window closely, in any arrival order', async () => {
    const metrics = new GatewayMetrics(() => ({ total: 0, idle: 0, waiting: 0, max: 1, min: 0 }));
    for (let i = 0; i < 20_000; i++) metrics.observeRequest('Q', [], ((i * 7_919) % 20_000) / 20);
    const { p95LatencyMs, requests } = await metrics.takeWindow();
    expect(requests).toBe(20_000);
    expect(Math.abs(p95LatencyMs - 950)).toBeLessThan(5);
  });

  it('bounds the operation label: odd names and names beyond the first 200 become "other"', async () => {
    const metrics = new GatewayMetrics(() => ({ total: 0, idle: 0, waiting: 0, max: 1, min: 0 }));
    for (let i = 0; i < 250; i++) metrics.observeRequest(`Op${i}`, [], 1);
    metrics.observeRequest('bad name{}"', [], 1);
    metrics.observeRequest(null, [], 1);
    const text = await metrics.metrics();
    const operations = new Set([...text.matchAll(/graphql_requests_total\{operation="([^"]*)"/g)].map((m) => m[1]));
    expect(operations.size).toBe(202);
    expect(operations.has('Op199')).toBe(true);
    expect(operations.has('Op200')).toBe(false);
    expect(operations.has('other')).toBe(true);
    expect(operations.has('anonymous')).toBe(true);
  });
});
