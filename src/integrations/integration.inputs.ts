import { IsObject, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { Field, InputType, Int } from 'type-graphql';
import { JSONObjectScalar, UUIDScalar, type JSONObject } from '../graphql/scalars';
import { EXPECTED_VERSION_DESCRIPTION, IDEMPOTENCY_KEY_DESCRIPTION } from '../idempotency/descriptions';
import { IntegrationHealth, IntegrationStatus, IntegrationType, type ExternalIntegration } from './integration.entity';

@InputType({ description: 'A new integration. `configuration` (credentials included) is stored but never returned.' })
export class CreateIntegrationInput implements Partial<ExternalIntegration> {
  @Field(() => IntegrationType)
  type!: IntegrationType;

  @Field({ description: '1 to 100 characters.' })
  @MaxLength(100)
  @Matches(/\S/, { message: 'name must not be empty or blank' })
  name!: string;

  @Field(() => JSONObjectScalar, { description: 'Endpoint, credentials and options; write-only.' })
  configuration!: JSONObject;

  @Field(() => IntegrationStatus, { nullable: true, description: 'Defaults to ACTIVE.' })
  status?: IntegrationStatus;

  @Field(() => Int, { nullable: true, description: 'Defaults to 60; 1 to 1,000,000.' })
  @ValidateIf((o: CreateIntegrationInput) => o.rateLimitPerMinute != null)
  @Min(1)
  @Max(1_000_000)
  rateLimitPerMinute?: number;

  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;
}

@InputType({ description: 'Changes to an integration: only the fields given change.' })
export class UpdateIntegrationInput implements Partial<ExternalIntegration> {
  @Field(() => UUIDScalar)
  id!: string;

  @Field({ nullable: true })
  @ValidateIf((o: UpdateIntegrationInput) => o.name !== undefined)
  @IsString()
  @MaxLength(100)
  @Matches(/\S/, { message: 'name must not be empty or blank' })
  name?: string;

  @Field(() => JSONObjectScalar, { nullable: true, description: 'Replaces the whole configuration; write-only.' })
  @ValidateIf((o: UpdateIntegrationInput) => o.configuration !== undefined)
  @IsObject({ message: 'configuration must be a JSON object, not null' })
  configuration?: JSONObject;

  @Field(() => IntegrationStatus, { nullable: true })
  @ValidateIf((o: UpdateIntegrationInput) => o.status !== undefined)
  @IsString({ message: 'status cannot be null' })
  status?: IntegrationStatus;

  @Field(() => IntegrationHealth, { nullable: true })
  @ValidateIf((o: UpdateIntegrationInput) => o.healthStatus !== undefined)
  @IsString({ message: 'healthStatus cannot be null' })
  healthStatus?: IntegrationHealth;

  @Field(() => Int, { nullable: true })
  @ValidateIf((o: UpdateIntegrationInput) => o.rateLimitPerMinute != null)
  @Min(1)
  @Max(1_000_000)
  rateLimitPerMinute?: number;

  @Field(() => Int, { nullable: true, description: EXPECTED_VERSION_DESCRIPTION })
  expectedVersion?: number | null;
}
