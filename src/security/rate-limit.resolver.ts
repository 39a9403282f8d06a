import { Authorized, Ctx, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { DateTimeScalar } from '../graphql/scalars';

@ObjectType({ simpleResolvers: true, description: "This token's query budget for the current minute, after this request." })
export class RateLimit {
  @Field(() => Int, { description: 'Points per minute.' })
  limit!: number;

  @Field(() => Int, { description: 'What this request cost.' })
  cost!: number;

  @Field(() => Int)
  remaining!: number;

  @Field(() => DateTimeScalar, { description: 'When the budget is full again.' })
  resetAt!: Date;
}

@Resolver()
export class RateLimitResolver {
  @Authorized(Role.VIEWER)
  @Query(() => RateLimit, { description: 'The per-minute cost budget of the token making this request.' })
  rateLimit(@Ctx() ctx: Context): RateLimit {
    const state = ctx.budget;
    return {
      limit: state?.limit ?? 0,
      cost: state?.requested ?? 0,
      remaining: state?.remaining ?? 0,
      resetAt: state?.resetAt ?? new Date(),
    };
  }
}
