import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../graphql/node';
import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { vocabularyCheck } from '../db/vocabulary';
import {
  DateTimeScalar,
  JSONObjectScalar,
  JSONScalar,
  UUIDScalar,
  type JSONArray,
  type JSONObject,
  type JSONValue,
} from '../graphql/scalars';

/** Stored lowercase in `tasks.status`; exposed as an UPPER_SNAKE GraphQL enum. */
export enum TaskStatus {
  PENDING = 'pending',
  IN_PROGRESS = 'in_progress',
  COMPLETED = 'completed',
  FAILED = 'failed',
  CANCELLED = 'cancelled',
}
registerEnumType(TaskStatus, { name: 'TaskStatus', description: 'Where a task is in its lifecycle.' });

@ObjectType({ simpleResolvers: true, implements: Node, description: 'A unit of work recorded by an agent or CI job.' })
@Entity({ name: 'tasks' })
@Check('tasks_status_check', vocabularyCheck('status', TaskStatus))
@Index('idx_tasks_status', ['status'])
@Index('idx_tasks_priority', ['priority'])
@Index('idx_tasks_assigned_to', ['assignedTo'])
@Index('idx_tasks_created_at', ['createdAt'])
@Index('idx_tasks_status_priority', ['status', 'priority'])
@Index('idx_tasks_assigned_status', ['assignedTo', 'status'])
@Index('idx_tasks_requirements_gin', ['requirements'], { type: 'gin' })
@Index('idx_tasks_metadata_gin', ['metadata'], { type: 'gin' })
@Index('idx_tasks_parent_task_id', ['parentTaskId'])
// keyset paging (migration KeysetIndexes): each sort key with its tie-break
@Index('idx_tasks_priority_id', ['priority', 'id'])
@Index('idx_tasks_created_at_id', ['createdAt', 'id'])
@Index('idx_tasks_updated_at_id', ['updatedAt', 'id'])
@Index('idx_tasks_title_id', ['title', 'id'])
// claimTask's order over pending tasks (priority DESC NULLS LAST, created_at): written in migration AgentWork
@Index('idx_tasks_ready', { synchronize: false })
@Check('tasks_max_attempts_check', 'max_attempts IS NULL OR max_attempts BETWEEN 1 AND 1000')
@Check('tasks_timeout_seconds_check', 'timeout_seconds IS NULL OR timeout_seconds BETWEEN 1 AND 86400')
@Check(
  'tasks_retry_backoff_check',
  '(retry_backoff_min_seconds IS NULL OR retry_backoff_min_seconds >= 0) AND (retry_backoff_max_seconds IS NULL OR retry_backoff_max_seconds >= 0) AND (retry_backoff_min_seconds IS NULL OR retry_backoff_max_seconds IS NULL OR retry_backoff_min_seconds <= retry_backoff_max_seconds)',
)
@Check('tasks_attempts_check', 'attempts >= 0')
export class Task {
  @Field(() => ID, { description: "Global id (Node): the row's UUID." })
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'tasks_pkey' })
  id!: string;

  @Field()
  @Column({ type: 'varchar', length: 255 })
  title!: string;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Field({ description: 'Free-form kind of task, e.g. "general", "bugfix".' })
  @Column({ type: 'varchar', length: 50, default: 'general' })
  type!: string;

  @Field(() => TaskStatus)
  @Column({ type: 'varchar', length: 50, default: TaskStatus.PENDING })
  status!: TaskStatus;

  @Field(() => Int, { nullable: true })
  @Column({ type: 'integer', nullable: true, default: 0 })
  priority!: number | null;

  @Field(() => Int, { nullable: true })
  @Column({ name: 'complexity_score', type: 'integer', nullable: true, default: 5 })
  complexityScore!: number | null;

  @Field(() => JSONObjectScalar, { nullable: true })
  @Column({ type: 'jsonb', nullable: true, default: () => "'{}'" })
  requirements!: JSONObject | null;

  @Field(() => JSONScalar, { nullable: true })
  @Column({ name: 'acceptance_criteria', type: 'jsonb', nullable: true, default: () => "'[]'" })
  acceptanceCriteria!: JSONArray | null;

  @Field(() => UUIDScalar, { nullable: true })
  @Column({ name: 'parent_task_id', type: 'uuid', nullable: true })
  parentTaskId!: string | null;

  /** Declared for the foreign key only; read through `context.loaders`, never lazily. */
  @ManyToOne(() => Task, { nullable: true })
  @JoinColumn({ name: 'parent_task_id', foreignKeyConstraintName: 'tasks_parent_task_id_fkey' })
  parentTask?: Task;

  @Field(() => String, { nullable: true })
  @Column({ name: 'assigned_to', type: 'varchar', length: 255, nullable: true })
  assignedTo!: string | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', nullable: true })
  createdAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz', nullable: true })
  updatedAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true })
  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt!: Date | null;

  @Field(() => JSONObjectScalar, { nullable: true })
  @Column({ type: 'jsonb', nullable: true, default: () => "'{}'" })
  metadata!: JSONObject | null;

  @Field(() => Int, {
    description:
      'Bumped by every change through the gateway; pass it as expectedVersion to change the row only if nobody changed it since you read it.',
  })
  @Column({ type: 'integer', default: 1 })
  version!: number;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Not claimable before this time (set by a retry backoff); null: at once.' })
  @Column({ name: 'run_after', type: 'timestamptz', nullable: true })
  runAfter!: Date | null;

  @Field(() => Int, { nullable: true, description: 'Claims before the task FAILS for good; null: QUEUE_DEFAULT_MAX_ATTEMPTS.' })
  @Column({ name: 'max_attempts', type: 'integer', nullable: true })
  maxAttempts!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Lease of a claim when the agent gives no leaseSeconds; null: QUEUE_DEFAULT_LEASE_SECONDS.',
  })
  @Column({ name: 'timeout_seconds', type: 'integer', nullable: true })
  timeoutSeconds!: number | null;

  @Field(() => Int, { nullable: true, description: 'Backoff before the first retry (seconds); null: QUEUE_RETRY_BACKOFF_MIN_SECONDS.' })
  @Column({ name: 'retry_backoff_min_seconds', type: 'integer', nullable: true })
  retryBackoffMinSeconds!: number | null;

  @Field(() => Int, { nullable: true, description: 'Longest backoff between retries (seconds); null: QUEUE_RETRY_BACKOFF_MAX_SECONDS.' })
  @Column({ name: 'retry_backoff_max_seconds', type: 'integer', nullable: true })
  retryBackoffMaxSeconds!: number | null;

  @Field(() => Int, { description: 'How many times the task has been claimed.' })
  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Field(() => JSONScalar, { nullable: true, description: 'The error details of the last failed attempt.' })
  @Column({ name: 'last_error', type: 'jsonb', nullable: true })
  lastError!: JSONValue;
}
