import { IsOptional, Matches, Max, MaxLength, Min } from 'class-validator';
import { Field, Float, InputType } from 'type-graphql';
import { DateTimeScalar, JSONObjectScalar, type JSONObject } from '../graphql/scalars';
import type { SystemMetric } from './metric.entity';

/** DECIMAL(15,6): nine digits before the point. */
export const METRIC_VALUE_LIMIT = 999_999_999.999999;

@InputType({ description: 'One metric sample.' })
export class MetricInput implements Partial<Omit<SystemMetric, 'timestamp'>> {
  @Field({ description: 'e.g. "database", "gateway"; 1 to 50 characters.' })
  @MaxLength(50)
  @Matches(/\S/, { message: 'category must not be empty or blank' })
  category!: string;

  @Field({ description: '1 to 100 characters.' })
  @MaxLength(100)
  @Matches(/\S/, { message: 'name must not be empty or blank' })
  name!: string;

  @Field(() => Float, { description: `A finite number within ±${METRIC_VALUE_LIMIT} (DECIMAL(15,6)).` })
  @Min(-METRIC_VALUE_LIMIT)
  @Max(METRIC_VALUE_LIMIT)
  value!: number;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(20)
  unit?: string | null;

  @Field(() => JSONObjectScalar, { nullable: true })
  dimensions?: JSONObject | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Defaults to now.' })
  timestamp?: Date | null;
}
