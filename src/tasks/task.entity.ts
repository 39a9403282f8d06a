import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Node } from '../graphql/node';
import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { vocabularyCheck } from '../db/vocabulary';
import { DateTimeScalar, JSONObjectScalar, JSONScalar, UUIDScalar, type JSONArray, type JSONObject } from '../graphql/scalars';

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
}
