import { Arg, Authorized, Ctx, Extensions, Field, Int, ObjectType, Query, registerEnumType, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { JSONObjectScalar } from '../graphql/scalars';

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
export class SqlConsoleResolver {
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
