import { Arg, Authorized, Ctx, Extensions, Field, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { DateTimeScalar, JSONObjectScalar } from '../graphql/scalars';

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

@ObjectType({ simpleResolvers: true })
export class SqlResult {
  @Field(() => [String])
  columns!: string[];

  @Field(() => [JSONObjectScalar], { description: 'One object per row, keyed by column name.' })
  rows!: Record<string, unknown>[];

  @Field(() => Int)
  rowCount!: number;

  @Field({ description: 'True when the statement returned more rows than the cap (RUN_SQL_ROW_LIMIT).' })
  truncated!: boolean;
}

/** Flat cost of one runSql call, on top of the field itself. */
export const RUN_SQL_COST = 100;

@Resolver()
export class SecurityResolver {
  @Authorized(Role.VIEWER)
  @Query(() => RateLimit, { description: 'The per-minute cost budget of the token making this request.' })
  rateLimit(@Ctx() ctx: Context): RateLimit {
    const state = ctx.budget;
    return { limit: state?.limit ?? 0, cost: state?.requested ?? 0, remaining: state?.remaining ?? 0, resetAt: state?.resetAt ?? new Date() };
  }

  @Authorized(Role.ADMIN)
  @Extensions({ cost: RUN_SQL_COST })
  @Query(() => SqlResult, {
    description: 'Admins only, and only where RUN_SQL_ENABLED: one SQL statement in a READ ONLY transaction, with a statement timeout and a row cap.',
  })
  runSql(@Arg('sql', () => String) sql: string, @Ctx() ctx: Context): Promise<SqlResult> {
    return ctx.services.sql.run(sql);
  }
}

