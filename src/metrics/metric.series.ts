import { Field, Float, Int, ObjectType } from 'type-graphql';
import { BadInputError } from '../errors';
import { DateTimeScalar, type JSONObject } from '../graphql/scalars';
import { Params } from '../db/sql';

export const MIN_BUCKET_SECONDS = 60;
export const MAX_BUCKET_SECONDS = 86_400;
/** The most buckets one metricSeries may span: a week of 5-minute buckets fits. */
export const MAX_BUCKETS = 5_000;

const UNIT_SECONDS = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

/** "5m" → 300. Buckets run from one minute to one day. */
export function parseBucket(bucket: string): number {
  const match = /^([1-9]\d{0,5})(s|m|h|d)$/.exec(bucket);
  const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2] as keyof typeof UNIT_SECONDS] : NaN;
  if (!(seconds >= MIN_BUCKET_SECONDS && seconds <= MAX_BUCKET_SECONDS)) {
    throw new BadInputError('bucket', `give a duration from 1m to 1d such as "1m", "5m", "15m", "1h" or "1d"; got "${bucket}"`);
  }
  return seconds;
}

/** Checks a series request and returns the bucket width in seconds. */
export function checkSeries(from: Date, to: Date, bucket: string): number {
  const seconds = parseBucket(bucket);
  if (!(from.getTime() < to.getTime())) throw new BadInputError('to', 'must be after from');
  const buckets = Math.ceil((to.getTime() - from.getTime()) / 1000 / seconds);
  if (buckets > MAX_BUCKETS) {
    throw new BadInputError(
      'bucket',
      `${buckets} buckets of ${bucket} between from and to; at most ${MAX_BUCKETS}: use a wider bucket or a shorter range`,
    );
  }
  return seconds;
}

export interface SeriesQuery {
  name: string;
  from: Date;
  to: Date;
  bucket: string;
  dimensions?: JSONObject | null;
}

/** The aggregates a bucket can carry; a statement computes only those asked for. */
export const SERIES_AGGREGATES = ['count', 'avg', 'min', 'max', 'sum', 'p50', 'p95'] as const;
export type SeriesAggregate = (typeof SERIES_AGGREGATES)[number];

/** Ranges up to this long read raw samples (exact percentiles); longer ones read rollups where they fit. */
export const RAW_RANGE_SECONDS = 6 * 3_600;
/**
 * A range whose metric holds at most this many samples reads them raw even where a rollup grain
 * fits: a sparse metric has more rollup rows (one per minute holding a sample, each with its
 * histogram) than samples, and merging them cost 20-50x the raw aggregate (bench/ series shape:
 * 833 samples in a day of 5-minute buckets). The count comes from the hourly rollup rows over every
 * dimension set, in the same statement; the branch not taken is not executed (a one-time filter).
 */
export const RAW_SAMPLES_MAX = 20_000;
/** Rollup grains, coarsest first: system_metric_rollups_1h and _1m (migration MetricsPartitions). */
const GRAINS = [
  { seconds: 3_600, table: 'system_metric_rollups_1h' },
  { seconds: 60, table: 'system_metric_rollups_1m' },
] as const;
/**
 * Relative error of a percentile read from rollups: the histogram's α (migration MetricsPartitions).
 * The estimate interpolates between the bins holding the two samples percentile_cont interpolates
 * between, so it is within α·|exact| of percentile_cont when those two samples have the same sign
 * (within α·max(|lo|, |hi|) otherwise), and never outside the bucket's [min, max].
 */
export const PERCENTILE_RELATIVE_ERROR = 0.02;

/**
 * The rollup grain that can answer a series: the coarsest whose rows fall wholly in one bucket (it
 * divides the bucket width and `from` is on its boundary); null for raw samples (short ranges, or
 * buckets no grain divides).
 */
export function seriesGrain(from: Date, to: Date, seconds: number): (typeof GRAINS)[number] | null {
  if ((to.getTime() - from.getTime()) / 1000 <= RAW_RANGE_SECONDS) return null;
  return GRAINS.find((g) => seconds % g.seconds === 0 && from.getTime() % (g.seconds * 1000) === 0) ?? null;
}

/**
 * One statement for a series, computing only `fields`. From rollups, the range's tail after the
 * last whole rollup row ([cut, to)) is read from raw samples in the same statement; count, sum,
 * min, max and avg are then exact, p50/p95 within PERCENTILE_RELATIVE_ERROR.
 */
export function seriesStatement(q: SeriesQuery, seconds: number, fields: ReadonlySet<string>): { sql: string; params: unknown[] } {
  const asked = SERIES_AGGREGATES.filter((a) => fields.has(a));
  const p = new Params();
  const from = `${p.add(q.from.toISOString())}::timestamptz`;
  // Added where used: a rollup statement without a raw tail has no `to` (an unused parameter has no type).
  const to = () => `${p.add(q.to.toISOString())}::timestamptz`;
  const name = p.add(q.name);
  const width = `${p.add(`${seconds} seconds`)}::interval`;
  const dims = q.dimensions ? ` AND dimensions @> ${p.json(q.dimensions)}` : '';
  // Rollup rows per dimension set answer a filter; the row over all of them (the nil UUID) the rest.
  const rollupDims = q.dimensions ? `${dims} AND dims_key <> '${ALL_DIMENSIONS}'` : ` AND dims_key = '${ALL_DIMENSIONS}'`;
  const grain = seriesGrain(q.from, q.to, seconds);
  // When a grain fits: the rollup statement where the range holds many samples, else the raw one.
  const gated = (rollup: string) => {
    const hour = new Date(Math.floor(q.from.getTime() / 3_600_000) * 3_600_000);
    const samples = `(SELECT coalesce(sum(count), 0) FROM system_metric_rollups_1h
            WHERE metric_name = ${name} AND bucket_start >= ${p.add(hour.toISOString())}::timestamptz AND bucket_start < ${to()}
              AND dims_key = '${ALL_DIMENSIONS}')`;
    return `SELECT * FROM (${rollup}) r WHERE ${samples} > ${RAW_SAMPLES_MAX}
          UNION ALL
          SELECT * FROM (${rawSelect(from, to())}) w WHERE ${samples} <= ${RAW_SAMPLES_MAX}`;
  };
  // date_bin (PostgreSQL 14+) rather than epoch arithmetic, whose numeric division is a large
  // part of the statement's cost (bench/ measures the one-day series).
  // Raw samples' aggregates: the whole statement for short ranges, else the tail after the last rollup row.
  const rawSelect = (lo: string, hi: string) =>
    `SELECT date_bin(${width}, timestamp, ${from}) AS start${asked.map((a) => `, ${RAW[a]} AS ${a}`).join('')}
            FROM system_metrics WHERE metric_name = ${name} AND timestamp >= ${lo} AND timestamp < ${hi}${dims}
            GROUP BY 1`;
  // The bucket starts leave PostgreSQL as ISO-8601 text, which the DateTime scalar sends as it is
  // (no Date parsed and formatted again per bucket in Node; src/db/rows.ts does the same).
  const ordered = (sql: string) => ({
    sql: `SELECT to_char(s.start AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS start${asked.map((a) => `, s.${a}`).join('')}
          FROM (${sql}) s ORDER BY s.start`,
    params: p.values,
  });
  if (!grain) return ordered(rawSelect(from, to()));
  const cut = new Date(Math.floor(q.to.getTime() / (grain.seconds * 1000)) * grain.seconds * 1000);
  const cutAt = `${p.add(cut.toISOString())}::timestamptz`;
  const quantiles = QUANTILES.filter((x) => asked.includes(x.key));
  const needs = (...of: SeriesAggregate[]) => of.some((k) => asked.includes(k));
  // What the buckets' aggregates are merged from: a rollup column, or a raw sample standing for one.
  const parts = [
    { on: needs('count', 'avg', 'p50', 'p95'), rollup: 'count', raw: '1', merge: 'sum(count) AS count' },
    { on: needs('sum', 'avg'), rollup: 'sum', raw: 'metric_value', merge: 'sum(sum) AS sum' },
    { on: needs('min', 'p50', 'p95'), rollup: 'min', raw: 'metric_value', merge: 'min(min) AS min' },
    { on: needs('max', 'p50', 'p95'), rollup: 'max', raw: 'metric_value', merge: 'max(max) AS max' },
    {
      on: quantiles.length > 0,
      rollup: 'hist_bins, hist_counts',
      raw: 'ARRAY[metric_hist_bin(metric_value::float8)], ARRAY[1]',
      merge: null,
    },
  ].filter((c) => c.on);
  // percentile_cont's position h = f·(n − 1) and the ranks floor(h), ceil(h) it interpolates between.
  const positions = (n: string) =>
    quantiles
      .map(
        ({ key, f }) =>
          `, floor(${f} * (${n} - 1))::bigint AS ${key}_lo, ceil(${f} * (${n} - 1))::bigint AS ${key}_hi, ${f} * (${n} - 1) AS ${key}_at`,
      )
      .join('');
  // The first bin whose running count passes each rank (over `bin`, `upto` in bin order, beside a).
  const rankBins = quantiles
    .map(
      ({ key }) =>
        `min(bin) FILTER (WHERE upto > a.${key}_lo) AS ${key}_lo_bin, min(bin) FILTER (WHERE upto > a.${key}_hi) AS ${key}_hi_bin`,
    )
    .join(', ');
  const merged: Record<SeriesAggregate, string> = {
    count: 'a.count::int',
    avg: '(a.sum / a.count)::float8',
    min: 'a.min::float8',
    max: 'a.max::float8',
    sum: 'a.sum::float8',
    p50: quantile('p50'),
    p95: quantile('p95'),
  };
  const list = (f: (c: (typeof parts)[number]) => string | null) =>
    parts
      .map(f)
      .filter((x) => x !== null)
      .map((x) => `, ${x}`)
      .join('');
  const select = `SELECT a.start${asked.map((k) => `, ${merged[k]} AS ${k}`).join('')}`;
  const rollups = `FROM ${grain.table} WHERE metric_name = ${name} AND bucket_start >= ${from} AND bucket_start < ${cutAt}${rollupDims}`;
  // A range ending on a rollup boundary has no raw tail (and its statement plans no raw partitions).
  const tail = cut.getTime() < q.to.getTime();
  if (grain.seconds === seconds && !q.dimensions) {
    // A bucket is one rollup row (the one over every dimension set; a filter matches a row per
    // dimension set and takes the merging path below): its aggregates are the row's, its
    // percentiles read from the row's own histogram arrays (sorted by bin), nothing merged across
    // rows. The tail's buckets hold raw samples only (cut is on a bucket boundary): exact, as for a
    // short range. `a` is materialized so that the ranks are computed once per row, not once per
    // bin (half the statement's time when it is inlined into the LATERAL).
    return ordered(
      gated(`WITH a AS ${quantiles.length ? 'MATERIALIZED ' : ''}(SELECT date_bin(${width}, bucket_start, ${from}) AS start${list((c) => c.rollup)}${positions('count')} ${rollups})
          ${select}
          FROM a${
            quantiles.length
              ? `, LATERAL (SELECT ${rankBins}
                      FROM (SELECT bin, sum(n) OVER (ORDER BY i ROWS UNBOUNDED PRECEDING) AS upto
                            FROM unnest(a.hist_bins, a.hist_counts) WITH ORDINALITY AS h(bin, n, i)) b) q`
              : ''
          }${tail ? `\n          UNION ALL\n          ${rawSelect(cutAt, to())}` : ''}`),
    );
  }
  // Buckets of several rollup rows (and the raw tail's samples): their bins merged per bucket.
  const ranks = quantiles.length
    ? `,
       bins AS (SELECT start, bin, sum(n) AS n FROM parts, unnest(hist_bins, hist_counts) AS h(bin, n) GROUP BY 1, 2),
       q AS MATERIALIZED (SELECT b.start, ${rankBins}
             FROM (SELECT start, bin, sum(n) OVER (PARTITION BY start ORDER BY bin) AS upto FROM bins) b JOIN a USING (start)
             GROUP BY b.start)`
    : '';
  return ordered(
    gated(`WITH parts AS (
            SELECT date_bin(${width}, bucket_start, ${from}) AS start${list((c) => c.rollup)}
            ${rollups}${
              tail
                ? `
            UNION ALL
            SELECT date_bin(${width}, timestamp, ${from})${list((c) => c.raw)}
            FROM system_metrics WHERE metric_name = ${name} AND timestamp >= ${cutAt} AND timestamp < ${to()}${dims}`
                : ''
            }),
          a AS (SELECT start${list((c) => c.merge)}${positions('sum(count)')} FROM parts GROUP BY 1)${ranks}
          ${select}
          FROM a${quantiles.length ? ' JOIN q USING (start)' : ''}`),
  );
}

/** The aggregates over raw samples (exact). */
const RAW: Record<SeriesAggregate, string> = {
  count: 'count(*)::int',
  avg: 'avg(metric_value)::float8',
  min: 'min(metric_value)::float8',
  max: 'max(metric_value)::float8',
  sum: 'sum(metric_value)::float8',
  p50: 'percentile_cont(0.5) WITHIN GROUP (ORDER BY metric_value::float8)',
  p95: 'percentile_cont(0.95) WITHIN GROUP (ORDER BY metric_value::float8)',
};

/** dims_key of the rollup rows over every dimension set (migration MetricsPartitions). */
const ALL_DIMENSIONS = '00000000-0000-0000-0000-000000000000';

const QUANTILES = [
  { key: 'p50', f: 0.5 },
  { key: 'p95', f: 0.95 },
] as const;

/** A percentile from the merged histogram: the bins of the two ranks percentile_cont uses, interpolated, kept in [min, max]. */
function quantile(k: string): string {
  const lo = `metric_hist_value(q.${k}_lo_bin)`;
  const hi = `metric_hist_value(q.${k}_hi_bin)`;
  return `greatest(a.min::float8, least(a.max::float8, ${lo} + (a.${k}_at - a.${k}_lo)::float8 * (${hi} - ${lo})))`;
}

@ObjectType({
  simpleResolvers: true,
  description: 'The samples of one metric in [start, start + bucket). Only buckets holding samples are returned.',
})
export class MetricBucket {
  /** ISO-8601 text as PostgreSQL formats it (the DateTime scalar sends it unchanged). */
  @Field(() => DateTimeScalar) start!: Date | string;
  @Field(() => Int) count!: number;
  @Field(() => Float) avg!: number;
  @Field(() => Float) min!: number;
  @Field(() => Float) max!: number;
  @Field(() => Float) sum!: number;
  @Field(() => Float, {
    description: `Median: percentile_cont over the samples for ranges up to 6 h; beyond, from per-minute or per-hour rollups, within ${PERCENTILE_RELATIVE_ERROR * 100} % of it.`,
  })
  p50!: number;
  @Field(() => Float, { description: '95th percentile, computed as p50 is.' }) p95!: number;
}

@ObjectType({ simpleResolvers: true })
export class RecordMetricsPayload {
  @Field(() => Int, { description: 'Rows inserted (all of them, or none on an error).' })
  count!: number;
}
