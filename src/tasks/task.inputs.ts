import { IsArray, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';
import { Field, InputType, Int } from 'type-graphql';
import { JSONObjectScalar, JSONScalar, UUIDScalar, type JSONArray, type JSONObject } from '../graphql/scalars';
import { EXPECTED_VERSION_DESCRIPTION, IDEMPOTENCY_KEY_DESCRIPTION } from '../idempotency/descriptions';
import { TaskStatus, type Task } from './task.entity';

const NOT_BLANK = /\S/;

/**
 * The retry policy of a task (src/queue/), set on createTask, createSubtask and updateTask alike.
 * type-graphql 2 (rc.4) has no `isAbstract` for input types; no argument has this type, so the
 * schema leaves it out (it builds only the types reachable from the resolvers) and has its fields
 * only in the inputs that extend it: schema.graphql is the same as with the fields repeated.
 */
@InputType()
export abstract class RetryPolicyInput implements Partial<Task> {
  @Field(() => Int, {
    nullable: true,
    description: 'Claims before a failing task FAILS for good (1 to 1000); null: QUEUE_DEFAULT_MAX_ATTEMPTS.',
  })
  @IsOptional()
  @Min(1)
  @Max(1000)
  maxAttempts?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Lease of a claim without leaseSeconds (1 to 86400 s); null: QUEUE_DEFAULT_LEASE_SECONDS.',
  })
  @IsOptional()
  @Min(1)
  @Max(86_400)
  timeoutSeconds?: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Backoff before the first retry (s), doubling per attempt; null: QUEUE_RETRY_BACKOFF_MIN_SECONDS.',
  })
  @IsOptional()
  @Min(0)
  @Max(86_400)
  retryBackoffMinSeconds?: number | null;

  @Field(() => Int, { nullable: true, description: 'Longest backoff (s), at least the minimum; null: QUEUE_RETRY_BACKOFF_MAX_SECONDS.' })
  @IsOptional()
  @Min(0)
  @Max(604_800)
  retryBackoffMaxSeconds?: number | null;
}

/** The fields of a new task, shared by createTask and createSubtask. */
@InputType({ description: 'The fields of a new task.' })
export class TaskFieldsInput extends RetryPolicyInput {
  @Field({ description: '1 to 255 characters, not blank.' })
  @MaxLength(255)
  @Matches(NOT_BLANK, { message: 'title must not be empty or blank' })
  title!: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(100_000)
  description?: string | null;

  @Field({ nullable: true, description: 'Defaults to "general"; at most 50 characters.' })
  @IsOptional()
  @MaxLength(50)
  @Matches(NOT_BLANK, { message: 'type must not be blank' })
  type?: string;

  @Field(() => Int, { nullable: true, description: 'Defaults to 0.' })
  priority?: number | null;

  @Field(() => Int, { nullable: true, description: 'Defaults to 5.' })
  complexityScore?: number | null;

  @Field(() => JSONObjectScalar, { nullable: true })
  requirements?: JSONObject | null;

  @Field(() => JSONScalar, { nullable: true, description: 'A JSON array.' })
  @IsOptional()
  @IsArray()
  acceptanceCriteria?: JSONArray | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(255)
  assignedTo?: string | null;

  @Field(() => JSONObjectScalar, { nullable: true })
  metadata?: JSONObject | null;

  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;
}

@InputType({ description: 'A new task. Only the title is required.' })
export class CreateTaskInput extends TaskFieldsInput {
  @Field(() => UUIDScalar, { nullable: true, description: 'Makes this task a subtask of an existing task.' })
  parentTaskId?: string | null;
}

@InputType({ description: 'A new subtask of an existing task. Only parentId and the title are required.' })
export class CreateSubtaskInput extends TaskFieldsInput {
  @Field(() => UUIDScalar, { description: 'The task this one is a subtask of.' })
  parentId!: string;
}

@InputType({ description: 'A move along the task state machine.' })
export class UpdateTaskStatusInput {
  @Field(() => UUIDScalar)
  id!: string;

  @Field(() => TaskStatus)
  status!: TaskStatus;

  @Field(() => Int, { nullable: true, description: EXPECTED_VERSION_DESCRIPTION })
  expectedVersion?: number | null;
}

@InputType({ description: 'Changes to a task: only the fields given change; null clears a nullable field.' })
export class UpdateTaskInput extends RetryPolicyInput {
  @Field(() => UUIDScalar)
  id!: string;

  @Field({ nullable: true })
  @ValidateIf((o: UpdateTaskInput) => o.title !== undefined)
  @IsString()
  @MaxLength(255)
  @Matches(NOT_BLANK, { message: 'title must not be empty or blank' })
  title?: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(100_000)
  description?: string | null;

  @Field({ nullable: true })
  @ValidateIf((o: UpdateTaskInput) => o.type !== undefined)
  @IsString()
  @MaxLength(50)
  @Matches(NOT_BLANK, { message: 'type must not be blank' })
  type?: string;

  @Field(() => TaskStatus, { nullable: true, description: 'Follows the task state machine.' })
  @ValidateIf((o: UpdateTaskInput) => o.status !== undefined)
  @IsString({ message: 'status cannot be null' })
  status?: TaskStatus;

  @Field(() => Int, { nullable: true })
  priority?: number | null;

  @Field(() => Int, { nullable: true })
  complexityScore?: number | null;

  @Field(() => JSONObjectScalar, { nullable: true })
  requirements?: JSONObject | null;

  @Field(() => JSONScalar, { nullable: true })
  @IsOptional()
  @IsArray()
  acceptanceCriteria?: JSONArray | null;

  @Field(() => UUIDScalar, { nullable: true })
  parentTaskId?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(255)
  assignedTo?: string | null;

  @Field(() => JSONObjectScalar, { nullable: true })
  metadata?: JSONObject | null;

  @Field(() => Int, { nullable: true, description: EXPECTED_VERSION_DESCRIPTION })
  expectedVersion?: number | null;
}

@InputType()
export class DeleteTaskInput {
  @Field(() => UUIDScalar)
  id!: string;

  @Field(() => Int, { nullable: true, description: EXPECTED_VERSION_DESCRIPTION })
  expectedVersion?: number | null;
}
