import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { ListArgs } from '../graphql/list.args';
import { UUIDScalar } from '../graphql/scalars';
import { SystemMetric } from './metric.entity';
import { MetricInput } from './metric.inputs';

@Resolver(() => SystemMetric)
export class MetricResolver {
  @Authorized(Role.VIEWER)
  @Query(() => SystemMetric, { nullable: true, description: 'A metric sample by id, or null.' })
  metric(@Arg('id', () => UUIDScalar) id: string, @Ctx() ctx: Context): Promise<SystemMetric | null> {
    return ctx.loaders.metricById.load(id);
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

  @Authorized(Role.OPERATOR)
  @Mutation(() => SystemMetric)
  recordMetric(@Arg('input', () => MetricInput) input: MetricInput, @Ctx() ctx: Context): Promise<SystemMetric> {
    return ctx.services.metrics.record(ctx, input);
  }
}
