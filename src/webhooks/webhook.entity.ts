import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { vocabularyCheck } from '../db/vocabulary';
import { DateTimeScalar, JSONObjectScalar, UUIDScalar, type JSONObject } from '../graphql/scalars';

export enum WebhookStatus {
  ACTIVE = 'active',
  DISABLED = 'disabled',
}
export enum WebhookDisabledReason {
  /** disableWebhook */
  MANUAL = 'manual',
  /** The receiver answered 410 Gone. */
  GONE = 'gone',
  /** An event failed every attempt of the retry schedule. */
  EXHAUSTED = 'exhausted',
}
export enum DeliveryStatus {
  /** Queued, not tried yet (or behind an event that is retrying). */
  PENDING = 'pending',
  /** Tried and failed; tried again at nextAttemptAt. */
  RETRYING = 'retrying',
  SUCCEEDED = 'succeeded',
  /** Every attempt failed (or the receiver answered 410): given up. */
  FAILED = 'failed',
}
registerEnumType(WebhookStatus, { name: 'WebhookStatus' });
registerEnumType(WebhookDisabledReason, { name: 'WebhookDisabledReason' });
registerEnumType(DeliveryStatus, { name: 'WebhookDeliveryStatus' });

/** bigint columns (change-log seq) as numbers: a seq stays far below 2^53. */
const bigintToNumber = { to: (v: unknown) => v, from: (v: string | null) => (v == null ? v : Number(v)) };

@ObjectType({
  simpleResolvers: true,
  description: 'An endpoint that receives change events as signed HTTP POSTs (Standard Webhooks). Its secret is never returned.',
})
@Entity({ name: 'webhooks' })
@Check('webhooks_status_check', vocabularyCheck('status', WebhookStatus))
@Check('webhooks_disabled_reason_check', vocabularyCheck('disabled_reason', WebhookDisabledReason))
export class Webhook {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'webhooks_pkey' })
  id!: string;

  @Field({ description: 'Where events are POSTed (https in production unless WEBHOOK_ALLOW_HTTP).' })
  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'varchar', length: 500, nullable: true })
  description!: string | null;

  @Field(() => [String], { description: 'Event types delivered, e.g. task.created, execution.finished.' })
  @Column({ type: 'text', array: true })
  events!: string[];

  @Field(() => JSONObjectScalar, {
    nullable: true,
    description: "A TaskFilter (as `tasks` takes it) over the event's task: the task itself, or an execution's task.",
  })
  @Column({ type: 'jsonb', nullable: true })
  filter!: JSONObject | null;

  @Field(() => WebhookStatus)
  @Column({ type: 'varchar', length: 20, default: WebhookStatus.ACTIVE })
  status!: WebhookStatus;

  @Field(() => WebhookDisabledReason, { nullable: true })
  @Column({ name: 'disabled_reason', type: 'varchar', length: 20, nullable: true })
  disabledReason!: WebhookDisabledReason | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt!: Date | null;

  /** The sealed signing secret (whsec_...): deliberately no @Field. */
  @Column({ type: 'jsonb' })
  secret!: JSONObject;

  /** The secret before the last rotation, sealed; signs too until previousSecretExpiresAt. */
  @Column({ name: 'previous_secret', type: 'jsonb', nullable: true })
  previousSecret!: JSONObject | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Until then deliveries carry a signature by the previous secret too.' })
  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt!: Date | null;

  @Field(() => Float, { description: 'Change-log seq of the last event delivered (the number in its webhook-id, msg_<seq>).' })
  @Column({ name: 'last_seq', type: 'bigint', default: 0, transformer: bigintToNumber })
  lastSeq!: number;

  /** The instance sending to this endpoint now, and until when (see webhook.dispatcher.ts). */
  @Column({ name: 'lease_owner', type: 'varchar', length: 100, nullable: true })
  leaseOwner!: string | null;

  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil!: Date | null;

  @Field(() => DateTimeScalar)
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Field(() => DateTimeScalar)
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Field(() => Int)
  @Column({ type: 'integer', default: 1 })
  version!: number;
}

@ObjectType({ simpleResolvers: true, description: 'One event queued for one webhook, and its last attempt.' })
@Entity({ name: 'webhook_deliveries' })
@Check('webhook_deliveries_status_check', vocabularyCheck('status', DeliveryStatus))
@Check('webhook_deliveries_attempts_check', 'attempts >= 0')
@Index('uq_webhook_deliveries_webhook_seq', ['webhookId', 'seq'], { unique: true })
@Index('idx_webhook_deliveries_open', ['webhookId', 'seq'], { where: "status IN ('pending', 'retrying')" })
@Index('idx_webhook_deliveries_created_at', ['createdAt'])
export class WebhookDelivery {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'webhook_deliveries_pkey' })
  id!: string;

  @Field(() => UUIDScalar)
  @Column({ name: 'webhook_id', type: 'uuid' })
  webhookId!: string;

  /** Declared for the foreign key only. */
  @ManyToOne(() => Webhook, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'webhook_id', foreignKeyConstraintName: 'webhook_deliveries_webhook_id_fkey' })
  webhook?: Webhook;

  @Field(() => Float, { description: 'The change-log seq of the event.' })
  @Column({ type: 'bigint', transformer: bigintToNumber })
  seq!: number;

  @Field({ description: 'The webhook-id header: the same on every attempt.' })
  @Column({ name: 'message_id', type: 'varchar', length: 64 })
  messageId!: string;

  @Field({ description: 'e.g. task.status_changed' })
  @Column({ name: 'event_type', type: 'varchar', length: 50 })
  eventType!: string;

  /** The JSON body, fixed when queued (every attempt sends the same bytes). */
  @Column({ type: 'text' })
  body!: string;

  @Field(() => DeliveryStatus)
  @Column({ type: 'varchar', length: 20, default: DeliveryStatus.PENDING })
  status!: DeliveryStatus;

  @Field(() => Int)
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Field(() => DateTimeScalar, { description: 'When it is (or was to be) tried next.' })
  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true })
  lastAttemptAt!: Date | null;

  @Field(() => Int, { nullable: true, description: "The last attempt's HTTP status (null: no answer)." })
  @Column({ name: 'response_status', type: 'integer', nullable: true })
  responseStatus!: number | null;

  @Field(() => String, { nullable: true, description: "The first 1 KB of the last attempt's answer." })
  @Column({ name: 'response_body', type: 'varchar', length: 1024, nullable: true })
  responseBody!: string | null;

  @Field(() => Int, { nullable: true, description: 'ms from sending to the end of the answer (or the failure).' })
  @Column({ name: 'latency_ms', type: 'integer', nullable: true })
  latencyMs!: number | null;

  @Field(() => String, { nullable: true, description: 'Why the last attempt failed without an answer (TIMEOUT, REFUSED_ADDRESS, ...).' })
  @Column({ type: 'varchar', length: 200, nullable: true })
  error!: string | null;

  @Field(() => DateTimeScalar, { description: 'When the change happened.' })
  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Field(() => DateTimeScalar, { description: 'When it was queued.' })
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Field(() => DateTimeScalar, { nullable: true })
  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt!: Date | null;
}
