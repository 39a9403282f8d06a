import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { TaskExecution } from '../executions/execution.entity';
import { DateTimeScalar, JSONScalar, UUIDScalar, type JSONValue } from '../graphql/scalars';
import { SystemMetric } from '../metrics/metric.entity';
import { Task } from '../tasks/task.entity';

export enum ChangeOperation {
  CREATED = 'INSERT',
  UPDATED = 'UPDATE',
  DELETED = 'DELETE',
}
registerEnumType(ChangeOperation, { name: 'ChangeOperation', description: 'What happened to the row.' });

const CURSOR = 'Pass it as `after` to resume after this event (within SUBSCRIPTION_REPLAY_HOURS).';

@ObjectType({
  simpleResolvers: true,
  description: 'A task was created, changed or deleted (by the gateway or by anyone writing to the database).',
})
export class TaskChangedEvent {
  @Field({ description: CURSOR }) cursor!: string;
  @Field(() => ChangeOperation) operation!: ChangeOperation;
  @Field(() => UUIDScalar) taskId!: string;
  @Field(() => Task, { nullable: true, description: 'The task as it is now (as it was, when DELETED); null if it is gone since.' })
  task!: Task | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'An execution of a task started, changed (status, result) or was deleted. Log appends are executionLogAppended.',
})
export class ExecutionChangedEvent {
  @Field({ description: CURSOR }) cursor!: string;
  @Field(() => ChangeOperation) operation!: ChangeOperation;
  @Field(() => UUIDScalar) executionId!: string;
  @Field(() => UUIDScalar, { nullable: true }) taskId!: string | null;
  @Field(() => TaskExecution, {
    nullable: true,
    description: 'The execution as it is now (as it was, when DELETED); null if it is gone since.',
  })
  execution!: TaskExecution | null;
}

@ObjectType({ simpleResolvers: true, description: 'One entry appended to an execution’s logs; each entry is delivered once, in order.' })
export class ExecutionLogEntry {
  @Field({ description: CURSOR }) cursor!: string;
  @Field(() => UUIDScalar) executionId!: string;
  @Field(() => Int, { description: 'The entry’s seq: its position in the execution’s log (from 0; logEntries’ seq).' }) index!: number;
  @Field(() => JSONScalar, { nullable: true }) entry!: JSONValue;
}

@ObjectType({ simpleResolvers: true, description: 'A metric sample was recorded.' })
export class MetricRecordedEvent {
  @Field({ description: CURSOR }) cursor!: string;
  @Field(() => SystemMetric, { nullable: true, description: 'The sample; null if it was deleted since.' }) metric!: SystemMetric | null;
}

@ObjectType({
  simpleResolvers: true,
  description: 'One row of the change log, without the row’s data (admins: for replicating consumers).',
})
export class ChangeLogEvent {
  @Field({ description: CURSOR }) cursor!: string;
  @Field({ description: 'tasks, task_executions or system_metrics.' }) table!: string;
  @Field(() => UUIDScalar) rowId!: string;
  @Field({ description: 'INSERT, UPDATE, DELETE, or LOG (one appended log entry).' }) operation!: string;
  @Field(() => Int, { nullable: true }) logIndex!: number | null;
  @Field(() => DateTimeScalar) occurredAt!: Date;
}
