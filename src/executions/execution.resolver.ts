import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, Field, FieldResolver, Info, InputType, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../auth/roles';
import { ConnectionArgs, connectionType } from '../graphql/connection';
import { type Connection } from '../db/reads/keyset';
import type { Context } from '../graphql/context';
import { JSONScalar, UUIDScalar } from '../graphql/scalars';
import { planned } from '../graphql/planner';
import { connectionSelection, selectedFields } from '../graphql/selection';
import { Task } from '../tasks/task.entity';
import { taskByIdLoader } from '../tasks/task.loaders';
import { TaskExecution } from './execution.entity';
import { FinishExecutionInput, LeaseTokenField, LogEntriesArgs, StartExecutionInput } from './execution.inputs';
import {
  clearExecutionLoaders,
  executionByIdLoader,
  executionCountLoader,
  executionsOfTaskLoader,
  lastLogsLoader,
  latestExecutionLoader,
  logEntriesLoader,
} from './execution.loaders';
import { ExecutionLogEntry } from './log-entry.entity';
import { LOGS_FIELD_LIMIT } from './log-entry.sql';
import { ExecutionFilter } from './execution.query';
import { MAX_LOG_ENTRIES } from './execution.service';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../idempotency/descriptions';
import { idempotencyOf } from '../idempotency/idempotency.service';

export const LogEntryConnection = connectionType(
  ExecutionLogEntry,
  'LogEntry',
  'A page of an execution’s log entries, in the order they were appended (Relay connection).',
);

export const TaskExecutionConnection = connectionType(
  TaskExecution,
  'TaskExecution',
  'A page of executions, newest first (Relay connection).',
);

@InputType({ description: 'Log entries to append to an execution.' })
export class AppendExecutionLogInput {
  @Field(() => UUIDScalar)
  id!: string;

  @Field(() => [JSONScalar], { description: `1 to ${MAX_LOG_ENTRIES} JSON values, appended in order.` })
  entries!: unknown[];

  @LeaseTokenField()
  leaseToken?: string | null;

  @Field(() => String, { nullable: true, description: IDEMPOTENCY_KEY_DESCRIPTION })
  idempotencyKey?: string | null;
}

@Resolver(() => TaskExecution)
export class ExecutionResolver {
  @Authorized(Role.VIEWER)
  @Query(() => TaskExecution, { nullable: true, description: 'An execution by id, or null.' })
  async execution(
    @Arg('id', () => UUIDScalar) id: string,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<TaskExecution | null> {
    const execution = await ctx.services.executions.readTree(id, info);
    return execution !== undefined ? execution : executionByIdLoader(ctx, selectedFields(info)).load(id);
  }

  @Authorized(Role.VIEWER)
  @Query(() => TaskExecutionConnection, { description: 'Executions, newest first, a page at a time.' })
  executions(
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('filter', () => ExecutionFilter, { nullable: true }) filter: ExecutionFilter | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<TaskExecution>> {
    const selection = connectionSelection(info);
    return ctx.services.executions.page({ args, filter, fields: selection.nodeFields, withTotal: selection.totalCount, info });
  }

  @FieldResolver(() => LogEntryConnection, {
    description: 'The execution’s log, a page at a time, in the order it was appended (seq); `last` reads its tail.',
  })
  logEntries(
    @Root() execution: TaskExecution,
    @Args(() => LogEntriesArgs) args: LogEntriesArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<ExecutionLogEntry>> | Connection<ExecutionLogEntry> {
    return (
      planned<Connection<ExecutionLogEntry>>(execution, info) ?? logEntriesLoader(ctx, args, connectionSelection(info)).load(execution.id)
    );
  }

  @FieldResolver(() => JSONScalar, {
    nullable: true,
    description: `The last ${LOGS_FIELD_LIMIT} log entries (a constant), oldest first, each as it was appended; the whole log: logEntries.`,
    deprecationReason: `Bounded to the last ${LOGS_FIELD_LIMIT} entries; page through logEntries instead.`,
  })
  logs(@Root() execution: TaskExecution, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): unknown {
    const read = planned<unknown>(execution, info);
    return read !== undefined ? read : lastLogsLoader(ctx).load(execution.id);
  }

  @FieldResolver(() => Task, { nullable: true })
  task(@Root() execution: TaskExecution, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<Task | null> | Task | null {
    const read = planned<Task | null>(execution, info);
    if (read !== undefined) return read;
    return execution.taskId ? taskByIdLoader(ctx, selectedFields(info)).load(execution.taskId) : null;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => TaskExecution)
  async startExecution(
    @Arg('input', () => StartExecutionInput) input: StartExecutionInput,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<TaskExecution> {
    const execution = await ctx.services.executions.start(ctx, input, idempotencyOf(ctx, info, input.idempotencyKey));
    clearExecutionLoaders(ctx);
    return execution;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => TaskExecution, {
    description:
      'Appends entries to the execution’s log (rows of their own, seq without gaps) in one statement; concurrent appends all land, in order.',
  })
  appendExecutionLog(
    @Arg('input', () => AppendExecutionLogInput) input: AppendExecutionLogInput,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<TaskExecution> {
    clearExecutionLoaders(ctx);
    return ctx.services.executions.appendLog(
      ctx,
      input.id,
      input.entries,
      idempotencyOf(ctx, info, input.idempotencyKey),
      input.leaseToken,
    );
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => TaskExecution)
  finishExecution(
    @Arg('input', () => FinishExecutionInput) input: FinishExecutionInput,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<TaskExecution> {
    clearExecutionLoaders(ctx);
    return ctx.services.executions.finish(ctx, input, idempotencyOf(ctx, info, input.idempotencyKey));
  }
}

/** The execution fields of Task: each through a per-request loader, one statement per field per request. */
@Resolver(() => Task)
export class TaskExecutionsResolver {
  @FieldResolver(() => TaskExecutionConnection, { description: 'Runs of this task, newest first, a page at a time.' })
  executions(
    @Root() task: Task,
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('filter', () => ExecutionFilter, { nullable: true }) filter: ExecutionFilter | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<TaskExecution>> | Connection<TaskExecution> {
    return (
      planned<Connection<TaskExecution>>(task, info) ?? executionsOfTaskLoader(ctx, args, filter, connectionSelection(info)).load(task.id)
    );
  }

  @FieldResolver(() => TaskExecution, { nullable: true, description: 'The newest run of this task.' })
  latestExecution(
    @Root() task: Task,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<TaskExecution | null> | TaskExecution | null {
    const read = planned<TaskExecution | null>(task, info);
    if (read !== undefined) return read;
    return latestExecutionLoader(ctx, selectedFields(info)).load(task.id);
  }

  @FieldResolver(() => Int, { description: 'How many runs this task has.' })
  executionCount(@Root() task: Task, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<number> | number {
    return planned<number>(task, info) ?? executionCountLoader(ctx).load(task.id);
  }
}
