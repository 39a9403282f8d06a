import { ArrayMaxSize, ArrayMinSize, IsOptional, IsString, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { UUIDScalar } from '../graphql/scalars';
import { EXPECTED_VERSION_DESCRIPTION } from '../idempotency/descriptions';
import { TaskFilter } from '../tasks/task.query';
import { Webhook } from './webhook.entity';
import { EVENT_TYPES } from './webhook.events';

const EVENTS_DESCRIPTION = `1 to ${EVENT_TYPES.length} of: ${EVENT_TYPES.join(', ')}.`;
/** The longest rotation overlap: a week. */
export const MAX_OVERLAP_SECONDS = 7 * 86_400;

@InputType({ description: 'A new webhook endpoint. Its signing secret is generated and answered once.' })
export class CreateWebhookInput {
  @Field({ description: 'https:// (http:// where WEBHOOK_ALLOW_HTTP); must not resolve to a private address. At most 2,048 characters.' })
  @MaxLength(2048)
  url!: string;

  @Field(() => [String], { description: EVENTS_DESCRIPTION })
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_TYPES.length)
  @IsString({ each: true })
  @MaxLength(50, { each: true })
  events!: string[];

  @Field(() => TaskFilter, { nullable: true, description: "Only events whose task (the task, or an execution's task) passes this filter." })
  filter?: TaskFilter | null;

  @Field(() => String, { nullable: true, description: 'At most 500 characters.' })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;
}

@InputType({ description: 'Changes to a webhook: only the fields given change.' })
export class UpdateWebhookInput implements Partial<Webhook> {
  @Field(() => UUIDScalar)
  id!: string;

  @Field({ nullable: true })
  @ValidateIf((o: UpdateWebhookInput) => o.url !== undefined)
  @IsString({ message: 'url cannot be null' })
  @MaxLength(2048)
  url?: string;

  @Field(() => [String], { nullable: true, description: EVENTS_DESCRIPTION })
  @ValidateIf((o: UpdateWebhookInput) => o.events !== undefined)
  @ArrayMinSize(1)
  @ArrayMaxSize(EVENT_TYPES.length)
  @IsString({ each: true })
  @MaxLength(50, { each: true })
  events?: string[];

  @Field(() => TaskFilter, { nullable: true, description: 'null: no filter.' })
  filter?: TaskFilter | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(500)
  description?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'true: ACTIVE again (after disableWebhook, a 410 or exhausted retries): its queued events are sent, oldest first.',
  })
  enabled?: boolean | null;

  @Field(() => Int, { nullable: true, description: EXPECTED_VERSION_DESCRIPTION })
  expectedVersion?: number | null;
}

@InputType()
export class WebhookIdInput {
  @Field(() => UUIDScalar)
  id!: string;
}

@InputType({ description: 'A new signing secret; the old one keeps signing too for overlapSeconds.' })
export class RotateWebhookSecretInput {
  @Field(() => UUIDScalar)
  id!: string;

  @Field(() => Int, { nullable: true, description: `Defaults to 86,400 (a day); 0 to ${MAX_OVERLAP_SECONDS.toLocaleString('en')}.` })
  @IsOptional()
  @Min(0)
  @Max(MAX_OVERLAP_SECONDS)
  overlapSeconds?: number | null;
}

@InputType({ description: 'Sends an event again (same webhook-id), before the later ones still queued.' })
export class RedeliverWebhookEventInput {
  @Field(() => UUIDScalar, { description: 'The id of a webhookDeliveries node.' })
  deliveryId!: string;
}

@ObjectType({ description: 'A webhook and its signing secret, answered only here.' })
export class WebhookWithSecret {
  @Field(() => Webhook)
  webhook!: Webhook;

  @Field({ description: 'whsec_ + base64: give it to the receiver now; it is never shown again.' })
  secret!: string;
}
