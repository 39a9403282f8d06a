import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../graphql/node';
import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { vocabularyCheck } from '../db/vocabulary';
import { DateTimeScalar, JSONObjectScalar, JSONScalar, UUIDScalar, type JSONObject, type JSONValue } from '../graphql/scalars';
import { Task } from '../tasks/task.entity';

export enum ExecutionStatus {
  PENDING = 'pending',
  RUNNING = 'running',
  SUCCEEDED = 'succeeded',
  FAILED = 'failed',
  CANCELLED = 'cancelled',
}
registerEnumType(ExecutionStatus, { name: 'ExecutionStatus', description: 'State of one run of a task by an agent.' });

@ObjectType({ simpleResolvers: true, implements: Node, description: 'One run of a task by an agent.' })
@Entity({ name: 'task_executions' })
@Check('task_executions_status_check', vocabularyCheck('status', ExecutionStatus))
@Index('idx_task_executions_task_created', ['taskId', 'createdAt'])
@Index('idx_task_executions_created_id', ['createdAt', 'id'])
@Index('uq_task_executions_one_success', ['taskId'], { unique: true, where: "status = 'succeeded'" })
@Index('idx_task_executions_lease', ['leaseExpiresAt'], { where: "status = 'running' AND lease_expires_at IS NOT NULL" })
@Check('task_executions_attempt_check', 'attempt IS NULL OR attempt >= 1')
@Check('task_executions_log_count_check', 'log_count >= 0')
export class TaskExecution {
  @Field(() => ID, { description: "Global id (Node): the row's UUID." })
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'task_executions_pkey' })
  id!: string;

  @Field(() => UUIDScalar, { nullable: true })
  @Column({ name: 'task_id', type: 'uuid', nullable: true })
  taskId!: string | null;

  /** Declared for the foreign key only; read through `context.loaders`. */
  @ManyToOne(() => Task, { nullable: true, onDelete: 'CASCADE' })
  @JoinColumn({ name: 'task_id', foreignKeyConstraintName: 'task_executions_task_id_fkey' })
  task?: Task;

  @Field({ description: 'Which agent ran it, e.g. "codegen", "claude".' })
  @Column({ name: 'agent_type', type: 'varchar', length: 50 })
  agentType!: string;

  @Field(() => JSONObjectScalar, { nullable: true })
  @Column({ name: 'agent_config', type: 'jsonb', nullable: true, default: () => "'{}'" })
  agentConfig!: JSONObject | null;

  @Field(() => ExecutionStatus)
  @Column({ type: 'varchar', length: 50, default: ExecutionStatus.PENDING })
  status!: ExecutionStatus;

  /** Entries appended so far, and so the `seq` of the next one (see log-entry.entity.ts). */
  @Field(() => Int, { description: 'How many log entries were appended (the seq of the next one); retention may have deleted some since.' })
  @Column({ name: 'log_count', type: 'integer', default: 0 })
  logCount!: number;

  @Field(() => JSONScalar, { nullable: true })
  @Column({ name: 'error_details', type: 'jsonb', nullable: true })
  errorDetails!: JSONValue;

  @Field(() => DateTimeScalar, { nullable: true })
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', nullable: true })
  createdAt!: Date | null;

  @Field(() => Int, { nullable: true, description: 'Which claim of its task this is (1, 2, ...); null for startExecution runs.' })
  @Column({ type: 'integer', nullable: true })
  attempt!: number | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'A claimed run whose lease passes (plus the grace period) is FAILED by the reaper.',
  })
  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt!: Date | null;

  /** SHA-256 (hex) of the lease token; the token itself is answered once, by claimTask. */
  @Column({ name: 'lease_token_hash', type: 'varchar', length: 64, nullable: true })
  leaseTokenHash!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When cancelTask asked the agent to stop.' })
  @Column({ name: 'cancel_requested_at', type: 'timestamptz', nullable: true })
  cancelRequestedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Column({ name: 'heartbeat_at', type: 'timestamptz', nullable: true })
  heartbeatAt!: Date | null;

  @Field(() => JSONScalar, { nullable: true, description: 'What the agent last reported through heartbeatExecution.' })
  @Column({ type: 'jsonb', nullable: true })
  progress!: JSONValue;
}
