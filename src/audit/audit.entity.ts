import { Field, ObjectType } from 'type-graphql';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeScalar, JSONObjectScalar, UUIDScalar, type JSONObject } from '../graphql/scalars';

/** One change made through the gateway, written in the same transaction as the change. */
@ObjectType({ simpleResolvers: true, description: 'Who changed what and when; secrets in before/after are masked.' })
@Entity({ name: 'audit_log' })
@Index('idx_audit_log_occurred_at', ['occurredAt', 'id'])
@Index('idx_audit_log_entity', ['entity', 'entityId'])
@Index('idx_audit_log_actor', ['actorId'])
export class AuditEntry {
  @Field(() => UUIDScalar)
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'audit_log_pkey' })
  id!: string;

  @Field(() => DateTimeScalar)
  @CreateDateColumn({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Field({ description: 'token, jwt, anonymous or system.' })
  @Column({ name: 'actor_kind', type: 'varchar', length: 20 })
  actorKind!: string;

  @Field({ description: 'The API token id, JWT subject or command that made the change.' })
  @Column({ name: 'actor_id', type: 'varchar', length: 255 })
  actorId!: string;

  @Field()
  @Column({ name: 'actor_name', type: 'varchar', length: 255 })
  actorName!: string;

  @Field()
  @Column({ name: 'actor_role', type: 'varchar', length: 20 })
  actorRole!: string;

  @Field({ description: 'The mutation, e.g. updateTask.' })
  @Column({ type: 'varchar', length: 100 })
  operation!: string;

  @Field({ description: 'The kind of record changed, e.g. task.' })
  @Column({ type: 'varchar', length: 50 })
  entity!: string;

  @Field(() => String, { nullable: true })
  @Column({ name: 'entity_id', type: 'varchar', length: 100, nullable: true })
  entityId!: string | null;

  @Field(() => JSONObjectScalar, { description: 'Changed fields: { field: { before, after } }, secrets masked.' })
  @Column({ type: 'jsonb', default: () => "'{}'" })
  changes!: JSONObject;

  @Field(() => String, {
    nullable: true,
    description: "The request's X-Request-Id when the client sent a well-formed one, else the gateway's own.",
  })
  @Column({ name: 'request_id', type: 'varchar', length: 128, nullable: true })
  requestId!: string | null;

  @Field(() => UUIDScalar, { nullable: true, description: 'The id the gateway made for the request, unique whatever the client sent.' })
  @Column({ name: 'server_request_id', type: 'uuid', nullable: true })
  serverRequestId!: string | null;
}
