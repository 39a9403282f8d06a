import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, Extensions, Info, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { byIdLoader } from '../graphql/loaders';
import { ListArgs } from '../graphql/list.args';
import { selectedFields } from '../graphql/selection';
import { DateTimeScalar, JSONObjectScalar, UUIDScalar, type JSONObject } from '../graphql/scalars';
import { SystemMetric } from './metric.entity';
import { MetricInput } from './metric.inputs';
import { MAX_BUCKETS, MetricBucket, RecordMetricsPayload } from './metric.series';
import { MAX_METRICS_PER_CALL } from './metric.service';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../idempotency/descriptions';
import { idempotencyOf } from '../idempotency/idempotency.service';

/**
 * Points per sample of a recordMetrics batch (security/cost.ts: a list argument multiplies): one
 * row of one INSERT, so less than a record read alone; the largest batch (10,000) costs 5,010.
 */
export const SAMPLE_COST = 0.5;

/** Metric samples by id, one statement per tick. */
export function metricByIdLoader(ctx: Context) {
  return byIdLoader(ctx.loaders, 'metric', null, (ids) => ctx.services.metrics.findByIds(ids));
}

@Resolver(() => SystemMetric)
export class MetricResolver {
  @Authorized(Role.VIEWER)
  @Query(() => SystemMetric, { nullable: true, description: 'A metric sample by id, or null.' })
  metric(@Arg('id', () => UUIDScalar) id: string, @Ctx() ctx: Context): Promise<SystemMetric | null> {
    return metricByIdLoader(ctx).load(id);
  }

  @Authorized(Role.VIEWER)
  @Query(() => [SystemMetric], { description: 'The newest samples, optionally of one metric name.' })
  metrics(
    @Args(() => ListArgs) { first }: ListArgs,
    @Arg('name', () => String, { nullable: true }) name: string | undefined,
    @Ctx() ctx: Context,
  ): Promise<SystemMetric[]> {
    return ctx.services.metrics.list(first, name ?? undefined);
  }

  @Authorized(Role.VIEWER)
  @Query(() => [MetricBucket], {
    description: `One metric over [from, to) in buckets of \`bucket\` ("1m" … "1d") aligned on \`from\`, aggregated in SQL; at most ${MAX_BUCKETS} buckets. Only buckets holding samples are returned.`,
  })
  metricSeries(
    @Arg('name') name: string,
    @Arg('from', () => DateTimeScalar) from: Date,
    @Arg('to', () => DateTimeScalar) to: Date,
    @Arg('bucket') bucket: string,
    @Arg('dimensions', () => JSONObjectScalar, {
      nullable: true,
      validate: false,
      description: 'Only samples whose dimensions contain this object.',
    })
    dimensions: JSONObject | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<MetricBucket[]> {
    return ctx.services.metrics.series({ name, from, to, bucket, dimensions }, selectedFields(info));
  }

  @Authorized(Role.VIEWER)
  @Query(() => [String], { description: 'Metric names (sorted), optionally of one category.' })
  metricNames(@Arg('category', () => String, { nullable: true }) category: string | null, @Ctx() ctx: Context): Promise<string[]> {
    return ctx.services.metrics.names(category);
  }

  @Authorized(Role.VIEWER)
  @Query(() => [String], { description: 'Metric categories, sorted.' })
  metricCategories(@Ctx() ctx: Context): Promise<string[]> {
    return ctx.services.metrics.categories();
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => SystemMetric)
  recordMetric(
    @Arg('input', () => MetricInput) input: MetricInput,
    @Arg('idempotencyKey', () => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION }) idempotencyKey: string | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<SystemMetric> {
    return ctx.services.metrics.record(ctx, input, idempotencyOf(ctx, info, idempotencyKey));
  }

  @Authorized(Role.OPERATOR)
  @Extensions({ costPerItem: SAMPLE_COST })
  @Mutation(() => RecordMetricsPayload, { description: `Records up to ${MAX_METRICS_PER_CALL} samples in one INSERT: all or none.` })
  async recordMetrics(
    @Arg('input', () => [MetricInput]) input: MetricInput[],
    @Arg('idempotencyKey', () => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION }) idempotencyKey: string | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<RecordMetricsPayload> {
    return { count: await ctx.services.metrics.recordMany(ctx, input, idempotencyOf(ctx, info, idempotencyKey)) };
  }
}
