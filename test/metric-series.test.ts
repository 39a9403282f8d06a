import { PERCENTILE_RELATIVE_ERROR, parseBucket, seriesGrain, seriesStatement } from '../src/metrics/metric.series';
import { startTestGateway, type TestGateway } from './support/gateway';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway();
  // 500,000 samples, one every 0.6 s from 2026-01-01 (about 3.5 days), two names, two regions.
  await t.db.query(`
    INSERT INTO system_metrics (metric_category, metric_name, metric_value, metric_unit, dimensions, timestamp)
    SELECT 'gateway', CASE WHEN i % 10 = 0 THEN 'errors' ELSE 'latency_ms' END,
           ((i::bigint * 7919) % 100000) / 100.0 + 0.000123, 'ms',
           jsonb_build_object('region', CASE WHEN i % 3 = 0 THEN 'eu' ELSE 'us' END, 'host', 'h' || (i % 4)),
           timestamptz '2026-01-01 00:00:00+00' + i * interval '600 milliseconds'
    FROM generate_series(1, 500000) AS i`);
  await t.db.query('ANALYZE system_metrics');
}, 180_000);
afterAll(() => t.close());

const SERIES = `query($name: String!, $from: DateTime!, $to: DateTime!, $bucket: String!, $dims: JSONObject) {
  metricSeries(name: $name, from: $from, to: $to, bucket: $bucket, dimensions: $dims) { start count avg min max sum p50 p95 }
}`;

/** The reference: date_bin (PostgreSQL 14+), written independently of the gateway's SQL. */
async function expected(name: string, from: string, to: string, interval: string, dims?: object) {
  const rows = await t.db.query(
    `SELECT date_bin($4::interval, timestamp, $2::timestamptz) AS start, count(*)::int AS count,
            avg(metric_value) AS avg, min(metric_value) AS min, max(metric_value) AS max, sum(metric_value) AS sum,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY metric_value) AS p50,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY metric_value) AS p95
     FROM system_metrics
     WHERE metric_name = $1 AND timestamp >= $2 AND timestamp < $3 AND ($5::jsonb IS NULL OR dimensions @> $5::jsonb)
     GROUP BY 1 ORDER BY 1`,
    [name, from, to, interval, dims ? JSON.stringify(dims) : null],
  );
  return rows.map((r: any) => ({
    ...r,
    start: r.start.toISOString(),
    avg: Number(r.avg),
    min: Number(r.min),
    max: Number(r.max),
    sum: Number(r.sum),
  }));
}

/** count, sum, min, max, avg exact; p50/p95 exact from raw samples, within the documented error from rollups. */
function expectSameBuckets(actual: any[], wanted: any[], percentileError = 0) {
  expect(actual.map((b) => [b.start, b.count])).toEqual(wanted.map((b) => [b.start, b.count]));
  actual.forEach((b, i) => {
    for (const k of ['avg', 'min', 'max', 'sum']) expect(b[k]).toBeCloseTo(wanted[i][k], 6);
    for (const k of ['p50', 'p95']) {
      if (percentileError === 0) expect(b[k]).toBeCloseTo(wanted[i][k], 6);
      else expect(Math.abs(b[k] - wanted[i][k])).toBeLessThanOrEqual(percentileError * Math.abs(wanted[i][k]) + 1e-9);
    }
  });
}

describe('metricSeries over 500,000 samples', () => {
  // [case, name, from, to, bucket, interval, dimensions, source]: raw samples for short ranges and
  // for buckets no rollup grain fits, rollups (whose percentiles carry the documented error) beyond.
  it.each([
    [
      '15m buckets aligned on an odd from',
      'latency_ms',
      '2026-01-01T00:07:30.000Z',
      '2026-01-03T00:00:00.000Z',
      '15m',
      '15 minutes',
      undefined,
      null,
    ],
    [
      '1h buckets over the whole range',
      'latency_ms',
      '2026-01-01T00:00:00.000Z',
      '2026-01-05T00:00:00.000Z',
      '1h',
      '1 hour',
      undefined,
      3600,
    ],
    [
      '1h buckets to mid-hour (one rollup row per bucket, a raw tail)',
      'latency_ms',
      '2026-01-01T00:00:00.000Z',
      '2026-01-04T12:30:00.000Z',
      '1h',
      '1 hour',
      undefined,
      3600,
    ],
    [
      '1m buckets over 8 h (one per-minute row per bucket)',
      'errors',
      '2026-01-02T00:00:00.000Z',
      '2026-01-02T08:00:10.000Z',
      '1m',
      '1 minute',
      undefined,
      60,
    ],
    [
      '1d buckets with a dimensions filter',
      'errors',
      '2025-12-31T12:00:00.000Z',
      '2026-01-05T00:00:00.000Z',
      '1d',
      '1 day',
      { region: 'eu' },
      3600,
    ],
    [
      '15m buckets on a minute boundary, to mid-minute',
      'latency_ms',
      '2026-01-01T00:07:00.000Z',
      '2026-01-03T00:00:30.500Z',
      '15m',
      '15 minutes',
      { host: 'h2' },
      60,
    ],
    ['1m buckets', 'latency_ms', '2026-01-02T10:00:00.000Z', '2026-01-02T12:00:00.000Z', '1m', '1 minute', { host: 'h1' }, null],
  ])(
    '%s matches hand-written SQL',
    async (_name, name, from, to, bucket, interval, dims, grain) => {
      expect(seriesGrain(new Date(from), new Date(to), parseBucket(bucket))?.seconds ?? null).toBe(grain);
      const res = await t.gql(SERIES, { name, from, to, bucket, dims });
      expect(res.body.errors).toBeUndefined();
      const want = await expected(name, from, to, interval, dims);
      expect(want.length).toBeGreaterThan(1);
      expectSameBuckets(res.body.data.metricSeries, want, grain ? PERCENTILE_RELATIVE_ERROR : 0);
    },
    60_000,
  );

  it.each([
    ['raw samples', '2026-01-02T10:00:00Z', '2026-01-02T12:00:00Z'],
    ['rollups', '2026-01-01T00:00:00Z', '2026-01-05T00:00:00Z'],
  ])('computes only the aggregates selected (%s)', async (_source, from, to) => {
    const q = { name: 'latency_ms', from: new Date(from), to: new Date(to), bucket: '1h' };
    const cheap = seriesStatement(q, 3600, new Set(['start', 'avg', 'max']));
    expect(cheap.sql).not.toMatch(/percentile_cont|hist_|count\(\*\)|min\(/);
    const plan = (await t.db.query(`EXPLAIN (VERBOSE, COSTS OFF) ${cheap.sql}`, cheap.params)).map((r: any) => r['QUERY PLAN']).join('\n');
    expect(plan).not.toMatch(/percentile_cont|metric_hist|unnest/);
    expect(seriesStatement(q, 3600, new Set(['p95'])).sql).toMatch(/percentile_cont\(0\.95\)|metric_hist_value/);
    // Through the endpoint: the same answer, only the fields asked.
    const res = await t.gql(
      `query($from: DateTime!, $to: DateTime!) { metricSeries(name: "latency_ms", from: $from, to: $to, bucket: "1h") { start avg max } }`,
      {
        from,
        to,
      },
    );
    expect(res.body.errors).toBeUndefined();
    const want = await expected('latency_ms', from, to, '1 hour');
    expect(res.body.data.metricSeries).toHaveLength(want.length);
    res.body.data.metricSeries.forEach((b: any, i: number) => {
      expect(Object.keys(b).sort()).toEqual(['avg', 'max', 'start']);
      expect(b.start).toBe(want[i].start);
      expect(b.avg).toBeCloseTo(want[i].avg, 6);
      expect(b.max).toBeCloseTo(want[i].max, 6);
    });
  });

  it('agrees with the raw samples after more inserts: rollups follow every INSERT', async () => {
    await t.db.query(`
      INSERT INTO system_metrics (metric_category, metric_name, metric_value, dimensions, timestamp)
      SELECT 'gateway', 'late', i % 977 - 300.5, '{"host": "h9"}', timestamptz '2026-01-02 00:00:00+00' + i * interval '7 seconds'
      FROM generate_series(1, 20000) AS i`);
    for (let i = 0; i < 5; i++) {
      await t.gql(`mutation($input: [MetricInput!]!) { recordMetrics(input: $input) { count } }`, {
        input: Array.from({ length: 50 }, (_, j) => ({
          category: 'gateway',
          name: 'late',
          value: (j * 37) % 400,
          dimensions: { host: 'h9' },
          timestamp: new Date(Date.UTC(2026, 0, 2, 3, i, j)).toISOString(),
        })),
      });
    }
    const from = '2026-01-02T00:00:00.000Z';
    const to = '2026-01-03T12:00:00.000Z';
    for (const [bucket, interval] of [
      ['1h', '1 hour'],
      ['5m', '5 minutes'],
    ]) {
      const res = await t.gql(SERIES, { name: 'late', from, to, bucket });
      expect(res.body.errors).toBeUndefined();
      expectSameBuckets(res.body.data.metricSeries, await expected('late', from, to, interval), PERCENTILE_RELATIVE_ERROR);
    }
  }, 60_000);

  it('returns every sample of the range exactly once', async () => {
    const res = await t.gql(SERIES, { name: 'latency_ms', from: '2026-01-01T00:00:00Z', to: '2026-01-06T00:00:00Z', bucket: '1d' });
    const total = res.body.data.metricSeries.reduce((n: number, b: any) => n + b.count, 0);
    expect(total).toBe(450_000);
  });

  it.each([
    ['a bucket under a minute', { bucket: '30s' }],
    ['a bucket over a day', { bucket: '2d' }],
    ['a malformed bucket', { bucket: '5 minutes' }],
    ['too many buckets', { bucket: '1m', to: '2026-01-31T00:00:00Z' }],
    ['to before from', { to: '2025-12-01T00:00:00Z' }],
  ])('refuses %s as BAD_USER_INPUT', async (_name, over) => {
    const res = await t.gql(SERIES, {
      name: 'latency_ms',
      from: '2026-01-01T00:00:00Z',
      to: '2026-01-02T00:00:00Z',
      bucket: '1h',
      ...over,
    });
    expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
