import { Field, Float, Int, ObjectType } from 'type-graphql';
import { BadInputError } from '../errors';
import { DateTimeScalar } from '../graphql/scalars';

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

@ObjectType({
  simpleResolvers: true,
  description: 'The samples of one metric in [start, start + bucket). Only buckets holding samples are returned.',
})
export class MetricBucket {
  @Field(() => DateTimeScalar) start!: Date;
  @Field(() => Int) count!: number;
  @Field(() => Float) avg!: number;
  @Field(() => Float) min!: number;
  @Field(() => Float) max!: number;
  @Field(() => Float) sum!: number;
  @Field(() => Float, { description: 'Median (percentile_cont, interpolated).' }) p50!: number;
  @Field(() => Float, { description: '95th percentile (percentile_cont, interpolated).' }) p95!: number;
}

@ObjectType({ simpleResolvers: true })
export class RecordMetricsPayload {
  @Field(() => Int, { description: 'Rows inserted (all of them, or none on an error).' })
  count!: number;
}
