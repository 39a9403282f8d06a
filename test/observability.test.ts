import { GatewayMetrics } from '../src/health/prometheus';
import { HealthMonitor } from '../src/health/monitor';
import { PoolHealthService } from '../src/health/pool-health.service';
import { IdempotencyService } from '../src/idempotency/idempotency.service';
import { MetricService } from '../src/metrics/metric.service';
import { loadConfig } from '../src/config';
import { startTestGateway, TEST_SECRETS_KEYS, type TestGateway } from './support/gateway';
import { captureLogs } from './support/log-capture';

/** A strict reading of the Prometheus text exposition format (version 0.0.4). */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
function parsePrometheus(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const metricName = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleLine = new RegExp(`^(${metricName})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
  const label = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n').slice(0, -1)) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${metricName}) (.*)$`).exec(line);
      if (!m) throw new Error(`bad comment line: ${line}`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3])) throw new Error(`bad type: ${line}`);
        if (types.has(m[2])) throw new Error(`TYPE given twice: ${line}`);
        types.set(m[2], m[3]);
      }
      continue;
    }
    const m = sampleLine.exec(line);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    let rest = m[2] ?? '';
    while (rest.length > 0) {
      const l = label.exec(rest);
      if (!l) throw new Error(`bad labels: ${line}`);
      labels[l[1]] = l[2];
      rest = rest.slice(l[0].length);
    }
    // Prometheus reads values with Go's strconv.ParseFloat: case-insensitive NaN and [+-]Inf are valid.
    const special = /^([+-]?)(inf|infinity|nan)$/i.exec(m[3]);
    const value = special ? (special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity) : Number(m[3]);
    if (!special && (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(m[3]) || Number.isNaN(value))) throw new Error(`bad value: ${line}`);
    const family = m[1].replace(/_(bucket|sum|count|total|created)$/, '');
    if (!types.has(m[1]) && !types.has(family)) throw new Error(`sample without TYPE: ${line}`);
    samples.push({ name: m[1], labels, value });
  }
  return { types, samples };
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.reduce((sum, s) => sum + s.value, 0);
}

async function scrape(t: TestGateway) {
  const res = await fetch(`${t.baseUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

describe('METRICS_TOKEN', () => {
  const TOKEN = 'prometheus-scrape-token-of-32-chars-or-more';
  const production = {
    NODE_ENV: 'production',
    SECRETS_KEYS: TEST_SECRETS_KEYS,
    DB_RUN_MIGRATIONS: 'true',
    HEALTH_MONITOR_ENABLED: 'false',
  };
  const get = (t: TestGateway, authorization?: string) =>
    fetch(`${t.baseUrl}/metrics`, { headers: authorization ? { authorization } : {} });

  it('closes /metrics to anonymous callers in production, with or without a token set', async () => {
    const closed = await startTestGateway(production);
    try {
      const res = await get(closed);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect((await res.json()).errors[0]).toMatchObject({
        extensions: { code: 'UNAUTHENTICATED' },
        message: expect.stringMatching(/METRICS_TOKEN/),
      });
      expect((await get(closed, `Bearer ${closed.adminToken}`)).status).toBe(401); // an API token is not the scrape token
    } finally {
      await closed.close();
    }
    const guarded = await startTestGateway({ ...production, METRICS_TOKEN: TOKEN });
    try {
      expect((await get(guarded)).status).toBe(401);
      expect((await get(guarded, `Bearer ${TOKEN}x`)).status).toBe(401);
      const ok = await get(guarded, `Bearer ${TOKEN}`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/graphql_requests_total/);
    } finally {
      await guarded.close();
    }
  });

  it('guards /metrics in development too once set (open there while unset)', async () => {
    const t = await startTestGateway({ METRICS_TOKEN: TOKEN, HEALTH_MONITOR_ENABLED: 'false' });
    try {
      expect((await get(t)).status).toBe(401);
      expect((await get(t, `Bearer ${TOKEN}`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('GET /metrics', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({ HEALTH_MONITOR_ENABLED: 'false', DB_POOL_MAX: '7' });
  });
  afterAll(() => t.close());

  it('parses as Prometheus exposition format with request, pool, database and process metrics', async () => {
    await t.gql('{ poolHealth { status } }');
    const { types, samples } = await scrape(t);
    expect(types.get('graphql_requests_total')).toBe('counter');
    expect(types.get('graphql_request_duration_seconds')).toBe('histogram');
    for (const gauge of [
      'db_pool_connections_total',
      'db_pool_connections_idle',
      'db_pool_connections_active',
      'db_pool_requests_waiting',
      'db_response_time_seconds',
      'db_up',
    ]) {
      expect(types.get(gauge)).toBe('gauge');
    }
    expect(value(samples, 'db_pool_connections_max')).toBe(7);
    expect(value(samples, 'db_up')).toBe(1);
    expect(value(samples, 'db_response_time_seconds')).toBeGreaterThan(0);
    expect(value(samples, 'db_pool_connections_total')).toBeGreaterThanOrEqual(1);
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(types.get('nodejs_heap_size_used_bytes')).toBe('gauge');
  });

  it('moves its counters and histogram after requests, by operation name and outcome', async () => {
    const before = (await scrape(t)).samples;
    await t.gql('query CountMe { task(id: "00000000-0000-0000-0000-000000000000") { id } }');
    await t.gql('query CountMe { task(id: "00000000-0000-0000-0000-000000000000") { id } }');
    await t.gql('query BadOne { task(id: "not-a-uuid") { id } }');
    await t.gql('mutation Blank { createTask(input: { title: "  " }) { id } }');
    const after = (await scrape(t)).samples;
    const ok = { operation: 'CountMe', outcome: 'ok' };
    expect(value(after, 'graphql_requests_total', ok) - value(before, 'graphql_requests_total', ok)).toBe(2);
    expect(value(after, 'graphql_request_duration_seconds_count', ok) - value(before, 'graphql_request_duration_seconds_count', ok)).toBe(
      2,
    );
    expect(value(after, 'graphql_request_duration_seconds_bucket', { ...ok, le: '+Inf' })).toBe(
      value(after, 'graphql_request_duration_seconds_count', ok),
    );
    for (const bad of [
      { operation: 'BadOne', outcome: 'GRAPHQL_VALIDATION_FAILED' }, // refused before it resolves: named from the document
      { operation: 'Blank', outcome: 'BAD_USER_INPUT' },
    ]) {
      expect(value(after, 'graphql_requests_total', bad) - value(before, 'graphql_requests_total', bad)).toBe(1);
    }
  });
});

describe('health monitor', () => {
  it('writes database and gateway samples to system_metrics, readable through the metric queries', async () => {
    const t = await startTestGateway({
      HEALTH_MONITOR_ENABLED: 'true',
      HEALTH_CHECK_INTERVAL_MS: '300',
      HEALTH_CHECK_TIMEOUT_MS: '250',
      HEALTH_PERFORMANCE_INTERVAL_MS: '300',
    });
    try {
      await t.gql('{ task(id: "00000000-0000-0000-0000-000000000000") { id } }');
      const until = Date.now() + 10_000;
      let categories: string[] = [];
      while (Date.now() < until) {
        categories = (await t.db.query(`SELECT DISTINCT metric_category AS c FROM system_metrics ORDER BY 1`)).map((r) => r.c);
        if (categories.length === 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(categories).toEqual(['database', 'gateway']);
      const names = (await t.db.query(`SELECT DISTINCT metric_name AS n FROM system_metrics`)).map((r) => r.n).sort();
      expect(names).toEqual(
        expect.arrayContaining([
          'db_connected',
          'db_response_time_ms',
          'db_pool_active',
          'db_pool_idle',
          'db_pool_total',
          'db_pool_waiting',
          'db_pool_utilization',
          'db_cache_hit_ratio',
          'gateway_requests_per_second',
          'gateway_p95_latency_ms',
          'gateway_error_rate',
        ]),
      );
      const res = await t.gql(`{ response: metrics(name: "db_response_time_ms", first: 5) { category name value unit dimensions timestamp }
                                 rps: metrics(name: "gateway_requests_per_second", first: 5) { category value unit } }`);
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.response[0]).toMatchObject({
        category: 'database',
        name: 'db_response_time_ms',
        unit: 'ms',
        dimensions: { source: 'health-monitor' },
      });
      expect(res.body.data.response[0].value).toBeGreaterThan(0);
      expect(res.body.data.rps[0]).toMatchObject({ category: 'gateway', unit: 'req/s' });
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const to = new Date(Date.now() + 60_000).toISOString();
      const series = await t.gql(
        `query($from: DateTime!, $to: DateTime!) {
        db: metricSeries(name: "db_response_time_ms", from: $from, to: $to, bucket: "1h") { count avg max }
        gw: metricSeries(name: "gateway_p95_latency_ms", from: $from, to: $to, bucket: "1h", dimensions: { source: "health-monitor" }) { count }
      }`,
        { from, to },
      );
      expect(series.body.errors).toBeUndefined();
      expect(series.body.data.db[0].count).toBeGreaterThanOrEqual(1);
      expect(series.body.data.db[0].max).toBeGreaterThan(0);
      expect(series.body.data.gw[0].count).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
    }
  });

  describe('alerts and ticks', () => {
    let t: TestGateway;
    beforeAll(async () => {
      t = await startTestGateway({ HEALTH_MONITOR_ENABLED: 'false' });
    });
    afterAll(() => t.close());

    function monitorWith(env: Record<string, string>) {
      const config = loadConfig({ DATABASE_URL: t.db.url, ...env });
      const { logger, entries } = captureLogs();
      const health = new PoolHealthService(t.gateway.dataSource, config.db, config.health, logger);
      const metrics = new GatewayMetrics(() => health.poolCounters());
      return {
        monitor: new HealthMonitor(
          config.health,
          health,
          metrics,
          new MetricService(t.gateway.dataSource, new IdempotencyService(t.gateway.dataSource, 24), config.security.limits.defaultPageSize),
          logger,
        ),
        metrics,
        health,
        entries,
      };
    }

    it('logs a warning when pool utilisation crosses its threshold and an info line when it recovers', async () => {
      const { monitor, health, entries } = monitorWith({ DB_POOL_MAX: '10', HEALTH_POOL_UTILIZATION_THRESHOLD: '5' });
      try {
        const busy = t.gateway.dataSource.query('SELECT pg_sleep(1.5)');
        await new Promise((r) => setTimeout(r, 200));
        await monitor.sampleHealth();
        await monitor.sampleHealth(); // still crossed: no second warning
        await busy;
        await monitor.sampleHealth();
        const alerts = entries.filter((e) => e.alert === 'pool_utilization').map((e) => [e.level, e.message]);
        expect(alerts).toEqual([
          ['warn', 'health alert: pool utilisation 10% is over 5%'],
          ['info', 'health recovered: pool_utilization back within its threshold'],
        ]);
      } finally {
        await health.close();
      }
    });

    it('logs a warning when the error rate crosses its threshold', async () => {
      const { monitor, metrics, health, entries } = monitorWith({ HEALTH_ERROR_RATE_THRESHOLD: '5' });
      try {
        for (let i = 0; i < 9; i++) metrics.observeRequest('Fine', [], 10);
        metrics.observeRequest('Broken', ['INTERNAL_SERVER_ERROR'], 10);
        metrics.observeRequest('Mistyped', ['BAD_USER_INPUT'], 10); // the client's mistake: not the gateway's error rate
        await monitor.samplePerformance();
        expect(entries.filter((e) => e.alert === 'error_rate').map((e) => e.message)).toEqual([
          'health alert: error rate 9.091% (1 of 11 requests) is over 5%',
        ]);
        const [row] = await t.db.query(
          `SELECT metric_value::float8 AS v FROM system_metrics WHERE metric_name = 'gateway_error_rate' ORDER BY "timestamp" DESC LIMIT 1`,
        );
        expect(row.v).toBeCloseTo(9.091, 3);
      } finally {
        await health.close();
      }
    });

    it('skips a tick while the previous sample of the same kind still runs', async () => {
      const { monitor, health, entries } = monitorWith({});
      try {
        let runs = 0;
        let finish!: () => void;
        const slow = () => {
          runs += 1;
          return new Promise<void>((resolve) => (finish = resolve));
        };
        const first = monitor.tick('health', slow);
        const second = monitor.tick('health', slow);
        expect(runs).toBe(1);
        expect(entries.some((e) => /health sample still running, skipping this tick/.test(e.message))).toBe(true);
        finish();
        await Promise.all([first, second]);
        await monitor.tick('health', async () => {
          runs += 1;
        });
        expect(runs).toBe(2);
      } finally {
        await health.close();
      }
    });
  });
});

describe('slow-query log', () => {
  it('logs statements over DB_SLOW_QUERY_MS without parameter values, tied to the request by its id', async () => {
    const { logger, entries } = captureLogs('info');
    const t = await startTestGateway({ DB_SLOW_QUERY_MS: '1', HEALTH_MONITOR_ENABLED: 'false' }, { logger });
    try {
      // A statement that certainly takes over 1 ms, with a parameter value that must not be logged.
      await t.db.query(
        `CREATE OR REPLACE FUNCTION slow_trigger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.05); RETURN NEW; END $$`,
      );
      await t.db.query(`CREATE TRIGGER slow_insert BEFORE INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION slow_trigger()`);
      const res = await t.gql('mutation { createTask(input: { title: "secret-title-7f3a" }) { id } }', undefined, {
        'X-Request-Id': 'trace-slow-42',
      });
      expect(res.body.errors).toBeUndefined();
      expect(res.headers.get('x-request-id')).toBe('trace-slow-42');
      const mine = entries.filter((e) => e.requestId === 'trace-slow-42');
      const request = mine.find((e) => e.message === 'graphql request');
      expect(request).toBeDefined();
      const slow = mine.filter((e) => e.message === 'slow query');
      const insert = slow.find((e) => /INSERT INTO "?tasks"?\b/.test(String(e.sql)));
      expect(insert).toBeDefined();
      expect(insert!.durationMs).toBeGreaterThanOrEqual(50);
      expect(insert!.level).toBe('warn');
      expect(JSON.stringify(entries)).not.toContain('secret-title-7f3a');
    } finally {
      await t.close();
    }
  });
});
