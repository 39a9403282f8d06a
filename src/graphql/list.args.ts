import { IsOptional, Max, Min } from 'class-validator';
import { ArgsType, Field, Int } from 'type-graphql';
import { MAX_PAGE_SIZE } from '../config/page-size';

/**
 * Bounds for plain lists: asking beyond the maximum is an error, not a silent clamp. Without
 * `first`, the server's default page size (the schema declares no default of its own, so that the
 * configured one is what the list returns and what the cost limit assumes).
 */
@ArgsType()
export class ListArgs {
  @Field(() => Int, {
    nullable: true,
    description: `How many rows, newest first: 1 to ${MAX_PAGE_SIZE}; the server's default page size when omitted.`,
  })
  @IsOptional()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  first?: number | null;
}
