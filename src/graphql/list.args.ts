import { Max, Min } from 'class-validator';
import { ArgsType, Field, Int } from 'type-graphql';

export const MAX_PAGE_SIZE = 100;

/** Bounds for plain lists: asking beyond the maximum is an error, not a silent clamp. */
@ArgsType()
export class ListArgs {
  @Field(() => Int, { defaultValue: 20, description: `How many rows, newest first: 1 to ${MAX_PAGE_SIZE}.` })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  first!: number;
}
