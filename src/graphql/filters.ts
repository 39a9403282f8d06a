import { Field, InputType, Int } from 'type-graphql';
import { DateTimeScalar } from './scalars';
import type { Params } from '../db/sql';

@InputType({ description: 'Bounds on an integer; the bounds given must all hold. NULLs never match.' })
export class IntRange {
  @Field(() => Int, { nullable: true }) gt?: number | null;
  @Field(() => Int, { nullable: true }) gte?: number | null;
  @Field(() => Int, { nullable: true }) lt?: number | null;
  @Field(() => Int, { nullable: true }) lte?: number | null;
}

@InputType({ description: 'Bounds on a timestamp; the bounds given must all hold. NULLs never match.' })
export class DateTimeRange {
  @Field(() => DateTimeScalar, { nullable: true }) gt?: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) gte?: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) lt?: Date | null;
  @Field(() => DateTimeScalar, { nullable: true }) lte?: Date | null;
}

const OPS = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** `column > $1 AND column <= $2 ...` for the bounds given. */
export function rangeSql(column: string, range: IntRange | DateTimeRange, p: Params, cast: string): string[] {
  return (Object.keys(OPS) as (keyof typeof OPS)[])
    .filter((op) => range[op] != null)
    .map((op) => `${column} ${OPS[op]} ${p.add(range[op])}::${cast}`);
}

/** `column = ANY($1)` for a non-empty list; an empty list matches nothing. */
export function inListSql(column: string, values: readonly string[], p: Params): string {
  return values.length === 0 ? 'FALSE' : `${column} = ANY(${p.add([...values])}::text[])`;
}
