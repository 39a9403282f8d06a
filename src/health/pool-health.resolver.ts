import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { PoolHealth } from './pool-health.types';

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
}
