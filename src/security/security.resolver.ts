import { Arg, Authorized, Ctx, Extensions, Field, Int, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
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

export enum SqlTruncation {
  ROWS = 'ROWS',
  CELL_BYTES = 'CELL_BYTES',
  ANSWER_BYTES = 'ANSWER_BYTES',
}
registerEnumType(SqlTruncation, {
  name: 'SqlTruncation',
  description:
    'Why a runSql answer is shorter than the result: RUN_SQL_ROW_LIMIT rows, RUN_SQL_CELL_BYTES per cell, RUN_SQL_ANSWER_BYTES per answer.',
});

@ObjectType({ simpleResolvers: true, description: 'A cell of a runSql answer cut to RUN_SQL_CELL_BYTES.' })
export class SqlCell {
  @Field(() => Int, { description: 'Index in rows.' })
  row!: number;

  @Field()
  column!: string;
}

@ObjectType({ simpleResolvers: true })
export class SqlResult {
  @Field(() => [String])
  columns!: string[];

  @Field(() => [JSONObjectScalar], { description: 'One object per row, keyed by column name.' })
  rows!: Record<string, unknown>[];

  @Field(() => Int)
  rowCount!: number;

  @Field({ description: 'True when anything was cut: see truncatedBy.' })
  truncated!: boolean;

  @Field(() => [SqlTruncation])
  truncatedBy!: SqlTruncation[];

  @Field(() => [SqlCell], { description: 'The cells cut to RUN_SQL_CELL_BYTES (their value is the first bytes of the text form).' })
  truncatedCells!: SqlCell[];
}

/** Flat cost of one runSql call, on top of the field itself. */
export const RUN_SQL_COST = 100;

@Resolver()
export class SecurityResolver {
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

  @Authorized(Role.ADMIN)
  @Extensions({ cost: RUN_SQL_COST })
  @Query(() => SqlResult, {
    description:
      'Admins only, and only where RUN_SQL_ENABLED: one query as the console role (RUN_SQL_DATABASE_URL) in a READ ONLY transaction, with a statement timeout and caps on rows, bytes per cell and bytes per answer.',
  })
  runSql(@Arg('sql', () => String) sql: string, @Ctx() ctx: Context): Promise<SqlResult> {
    return ctx.services.sql.run(sql) as Promise<SqlResult>;
  }
}
