import { Authorized, Ctx, FieldResolver, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { PoolHealth, StoreStats } from './pool-health.types';

@Resolver(() => PoolHealth)
export class PoolHealthResolver {
  @Authorized(Role.VIEWER)
  @Query(() => PoolHealth, {
    description:
      'Connection-pool and database health, checked now through a dedicated connection; answers within HEALTH_CHECK_TIMEOUT_MS even when the database is down.',
  })
  poolHealth(@Ctx() ctx: Context): Promise<PoolHealth> {
    return ctx.services.health.check();
  }

  /** Read only when selected: the sizes take statements of their own, which an exhausted pool would keep waiting. */
  @FieldResolver(() => [StoreStats])
  stores(@Ctx() ctx: Context): Promise<StoreStats[]> {
    return ctx.services.health.stores();
  }
}
