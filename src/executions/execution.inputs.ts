import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ArgsType, Field, InputType } from 'type-graphql';
import { ConnectionArgs } from '../graphql/connection';
import { DateTimeScalar, JSONObjectScalar, JSONScalar, UUIDScalar, type JSONObject, type JSONValue } from '../graphql/scalars';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../idempotency/descriptions';
import { ExecutionStatus, type TaskExecution } from './execution.entity';
import { LogLevel } from './log-entry.entity';

/**
 * The `leaseToken` of the inputs that act on a claimed execution (finishExecution,
 * appendExecutionLog: optional, required only for a claimed run; heartbeatExecution: required).
 */
export function LeaseTokenField(required = false): PropertyDecorator {
  return (target, key) => {
    Field(() => String, {
      nullable: !required,
      description: `${required ? 'The' : 'Required for a claimed execution (claimTask): the'} leaseToken claimTask answered. One no longer current is CONFLICT, detail LEASE_LOST.`,
    })(target, key);
    if (!required) IsOptional()(target, key);
    IsString()(target, key);
    MaxLength(200)(target, key);
  };
}

export const FINISHED_EXECUTION_STATUSES = [ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED] as const;

@InputType({ description: 'Starts a run of a task: the execution is RUNNING from now.' })
export class StartExecutionInput implements Partial<TaskExecution> {
  @Field(() => UUIDScalar)
  taskId!: string;

  @Field({ description: 'Which agent runs it, e.g. "codegen"; at most 50 characters.' })
  @IsString()
  @MaxLength(50)
  @Matches(/\S/, { message: 'agentType must not be empty or blank' })
  agentType!: string;

  @Field(() => JSONObjectScalar, { nullable: true })
  agentConfig?: JSONObject | null;

  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;
}

@InputType({ description: 'Ends a pending or running execution.' })
export class FinishExecutionInput implements Partial<TaskExecution> {
  @Field(() => UUIDScalar)
  id!: string;

  @Field(() => ExecutionStatus, { description: 'SUCCEEDED, FAILED or CANCELLED.' })
  @IsIn(FINISHED_EXECUTION_STATUSES, { message: 'status must be SUCCEEDED, FAILED or CANCELLED' })
  status!: ExecutionStatus;

  @Field(() => JSONScalar, { nullable: true, description: 'What went wrong, for FAILED runs.' })
  errorDetails?: JSONValue;

  @LeaseTokenField()
  leaseToken?: string | null;

  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;
}

@ArgsType()
/** TaskExecution.logEntries: paging, and which entries. */
export class LogEntriesArgs extends ConnectionArgs {
  @Field(() => LogLevel, { nullable: true, description: 'Only entries of this level or above (entries without a level are left out).' })
  level?: LogLevel | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Only entries appended at or after this time.' })
  since?: Date | null;
}
