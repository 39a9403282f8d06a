import DataLoader from 'dataloader';
import type { GraphQLResolveInfo } from 'graphql';
import {
  Arg,
  Args,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  Float,
  Info,
  InputType,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { DateTimeScalar, JSONObjectScalar, JSONScalar, UUIDScalar, type JSONObject } from '../graphql/scalars';
import { TaskExecution } from '../executions/execution.entity';
import { clearExecutionLoaders } from '../executions/execution.loaders';
import { LeaseTokenField } from '../executions/execution.inputs';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../idempotency/descriptions';
import { idempotencyOf } from '../idempotency/idempotency.service';
import type { ClaimedExecution } from './queue.service';
import { NotFoundError } from '../errors';
import { selectedFields } from '../graphql/selection';
import { ConnectionArgs } from '../graphql/connection';
import { type Connection } from '../db/reads/keyset';
import { sortedFields } from '../graphql/loaders';
import { planned } from '../graphql/planner';
import { connectionSelection, type ConnectionSelection } from '../graphql/selection';
import { Task } from '../tasks/task.entity';
import { clearTaskLoaders, taskByIdLoader } from '../tasks/task.loaders';
import { TaskFilter, TaskOrder } from '../tasks/task.query';
import { TaskConnection } from '../tasks/task.resolver';
import { dependencyLink, type DependencyKind } from './dependency.query';

@InputType({ description: 'Which ready tasks an agent takes; every condition given must hold.' })
export class ClaimFilterInput {
  @Field(() => [String], { nullable: true, description: 'Task types (Task.type) the agent takes.' })
  taskTypes?: string[] | null;

  @Field(() => Int, { nullable: true })
  priorityMin?: number | null;

  @Field(() => Int, { nullable: true })
  priorityMax?: number | null;

  @Field(() => JSONObjectScalar, { nullable: true, description: "The task's requirements contain this JSON (jsonb @>)." })
  requirements?: JSONObject | null;

  @Field(() => JSONObjectScalar, {
    nullable: true,
    description: "What the agent can do: the task's requirements are contained in this JSON (jsonb <@).",
  })
  capabilities?: JSONObject | null;
}

@InputType({ description: 'Claims the best ready task: PENDING, every dependency COMPLETED, runAfter passed, matching the filter.' })
export class ClaimTaskInput {
  @Field({ description: 'Which agent claims, e.g. "codegen"; at most 50 characters.' })
  @IsString()
  @MaxLength(50)
  @Matches(/\S/, { message: 'agentType must not be empty or blank' })
  agentType!: string;

  @Field(() => JSONObjectScalar, { nullable: true })
  agentConfig?: JSONObject | null;

  @Field(() => ClaimFilterInput, { nullable: true })
  filter?: ClaimFilterInput | null;

  @Field(() => Int, {
    nullable: true,
    description: "Lease length (1 to 86400 s); default the task's timeoutSeconds, else QUEUE_DEFAULT_LEASE_SECONDS. Heartbeats renew it.",
  })
  leaseSeconds?: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      'With nothing ready: wait up to this long (capped by QUEUE_MAX_WAIT_SECONDS) for a task to become ready. Not with idempotencyKey.',
  })
  waitSeconds?: number | null;

  @Field(() => String, {
    nullable: true,
    description: `${IDEMPOTENCY_KEY_DESCRIPTION} A retry answers the same execution, without its leaseToken.`,
  })
  idempotencyKey?: string | null;
}

@InputType({ description: "Renews a claimed execution's lease." })
export class HeartbeatExecutionInput {
  @Field(() => UUIDScalar)
  id!: string;

  @LeaseTokenField(true)
  leaseToken!: string;

  @Field(() => JSONScalar, { nullable: true, description: 'What the agent has done so far (stored as Execution.progress).' })
  @IsOptional()
  progress?: unknown;
}

@ObjectType({ description: 'What a heartbeat renewed, and whether the agent should stop.' })
export class HeartbeatPayload {
  @Field(() => TaskExecution)
  execution!: TaskExecution;

  @Field(() => DateTimeScalar, { nullable: true })
  leaseExpiresAt!: Date | null;

  @Field({ description: 'cancelTask was asked for this task: finish the execution CANCELLED.' })
  cancelRequested!: boolean;
}

@ObjectType({ description: 'Open tasks of one type.' })
export class QueueTaskTypeStats {
  @Field()
  taskType!: string;
  @Field(() => Int, { description: 'PENDING, unblocked, runAfter passed: claimable now.' })
  ready!: number;
  @Field(() => Int, { description: 'PENDING with a dependency not COMPLETED.' })
  blocked!: number;
  @Field(() => Int, { description: 'PENDING, waiting for its retry backoff (runAfter).' })
  delayed!: number;
  @Field(() => Int, { description: 'IN_PROGRESS.' })
  running!: number;
}

@ObjectType()
export class QueueAgentTypeStats {
  @Field()
  agentType!: string;
  @Field(() => Int, { description: 'RUNNING executions.' })
  running!: number;
}

@ObjectType({ description: 'The agent work queue at a glance (the same figures are gauges in /metrics).' })
export class QueueStats {
  @Field(() => [QueueTaskTypeStats])
  byTaskType!: QueueTaskTypeStats[];
  @Field(() => [QueueAgentTypeStats])
  runningByAgentType!: QueueAgentTypeStats[];
  @Field(() => Float, { nullable: true, description: 'Age of the oldest ready task (seconds); null when none is ready.' })
  oldestReadyAgeSeconds!: number | null;
  @Field(() => Int, { description: 'Executions the reaper FAILED (LEASE_EXPIRED) in the last hour.' })
  leasesExpiredLastHour!: number;
}

@Resolver(() => TaskExecution)
export class QueueResolver {
  @Authorized(Role.VIEWER)
  @Query(() => QueueStats, { description: 'Ready, blocked, delayed and running work per task type and agent type.' })
  queueStats(@Ctx() ctx: Context): Promise<QueueStats> {
    return ctx.services.queue.stats();
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => TaskExecution, {
    nullable: true,
    description: 'Claims the best ready task (priority, then age) in one statement; null when none is ready (after waitSeconds).',
  })
  async claimTask(
    @Arg('input', () => ClaimTaskInput) input: ClaimTaskInput,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ClaimedExecution | null> {
    const { idempotencyKey, ...request } = input;
    const claimed = await ctx.services.queue.claim(ctx, request, idempotencyOf(ctx, info, idempotencyKey));
    clearExecutionLoaders(ctx);
    return claimed;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => HeartbeatPayload, {
    description: 'Extends the lease of a claimed execution; LEASE_LOST (CONFLICT) once it is not yours.',
  })
  async heartbeatExecution(
    @Arg('input', () => HeartbeatExecutionInput) input: HeartbeatExecutionInput,
    @Ctx() ctx: Context,
  ): Promise<HeartbeatPayload> {
    const execution = await ctx.services.queue.heartbeat(ctx, input);
    clearExecutionLoaders(ctx);
    return { execution, leaseExpiresAt: execution.leaseExpiresAt, cancelRequested: execution.cancelRequestedAt != null };
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, {
    description:
      'Cancels a task: a PENDING one at once; a claimed one asks its agent to stop (heartbeatExecution answers cancelRequested), which finishes the run CANCELLED.',
  })
  async cancelTask(@Arg('id', () => UUIDScalar) id: string, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<Task | null> {
    if (!(await ctx.services.queue.cancel(ctx, id))) throw new NotFoundError('task', id);
    clearTaskLoaders(ctx);
    clearExecutionLoaders(ctx);
    return taskByIdLoader(ctx, selectedFields(info)).load(id);
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: 'The lease token: only in the answer of the claimTask that claimed it (stored as a hash); null elsewhere.',
  })
  leaseToken(@Root() execution: ClaimedExecution): string | null {
    return execution.leaseToken ?? null;
  }
}

@InputType({ description: 'Makes a task wait for others: it is claimable only once each is COMPLETED.' })
export class AddTaskDependenciesInput {
  @Field(() => UUIDScalar)
  taskId!: string;

  @Field(() => [UUIDScalar], { description: '1 to 100 tasks it depends on; a cycle is refused (BAD_USER_INPUT naming it).' })
  dependsOn!: string[];
}

@InputType()
export class RemoveTaskDependencyInput {
  @Field(() => UUIDScalar)
  taskId!: string;

  @Field(() => UUIDScalar)
  dependsOnTaskId!: string;
}

/** A page of each task's dependencies (or dependents, or blockers), every task in one statement. */
function dependencyLoader(
  ctx: Context,
  kind: DependencyKind,
  args: ConnectionArgs,
  filter: TaskFilter | null | undefined,
  orderBy: TaskOrder[] | null | undefined,
  selection: ConnectionSelection,
): DataLoader<string, Connection<Task>> {
  const fields = sortedFields(selection.nodeFields);
  return ctx.loaders.get(
    'task.dependencies',
    { kind, args, filter, orderBy, fields, total: selection.totalCount },
    () =>
      new DataLoader<string, Connection<Task>>((ids) =>
        ctx.services.tasks.linkedPages(dependencyLink(kind), ids, { args, filter, orderBy, fields, withTotal: selection.totalCount }),
      ),
  );
}

@Resolver(() => Task)
export class TaskDependencyResolver {
  private related(
    kind: DependencyKind,
    task: Task,
    args: ConnectionArgs,
    filter: TaskFilter | null,
    orderBy: TaskOrder[] | null,
    ctx: Context,
    info: GraphQLResolveInfo,
  ): Promise<Connection<Task>> | Connection<Task> {
    return (
      planned<Connection<Task>>(task, info) ?? dependencyLoader(ctx, kind, args, filter, orderBy, connectionSelection(info)).load(task.id)
    );
  }

  @FieldResolver(() => TaskConnection, { description: 'The tasks this one waits for, a page at a time (default: newest first).' })
  dependsOn(
    @Root() task: Task,
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('filter', () => TaskFilter, { nullable: true }) filter: TaskFilter | null,
    @Arg('orderBy', () => [TaskOrder], { nullable: true }) orderBy: TaskOrder[] | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<Task>> | Connection<Task> {
    return this.related('dependsOn', task, args, filter, orderBy, ctx, info);
  }

  @FieldResolver(() => TaskConnection, { description: 'The tasks that wait for this one, a page at a time (default: newest first).' })
  dependents(
    @Root() task: Task,
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('filter', () => TaskFilter, { nullable: true }) filter: TaskFilter | null,
    @Arg('orderBy', () => [TaskOrder], { nullable: true }) orderBy: TaskOrder[] | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<Task>> | Connection<Task> {
    return this.related('dependents', task, args, filter, orderBy, ctx, info);
  }

  @FieldResolver(() => TaskConnection, {
    description:
      'Dependencies not COMPLETED yet: while any is listed the task is not claimable. One that FAILED for good or was CANCELLED stays listed (with that status) and keeps blocking until it is retried or the dependency removed; dependents are never failed for it.',
  })
  blockedBy(
    @Root() task: Task,
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('filter', () => TaskFilter, { nullable: true }) filter: TaskFilter | null,
    @Arg('orderBy', () => [TaskOrder], { nullable: true }) orderBy: TaskOrder[] | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<Task>> | Connection<Task> {
    return this.related('blockedBy', task, args, filter, orderBy, ctx, info);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, { description: 'Adds dependencies to a task (already present ones are kept); answers the task.' })
  async addTaskDependencies(
    @Arg('input', () => AddTaskDependenciesInput) input: AddTaskDependenciesInput,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Task | null> {
    await ctx.services.dependencies.add(ctx, input.taskId, input.dependsOn);
    clearTaskLoaders(ctx);
    return taskByIdLoader(ctx, selectedFields(info)).load(input.taskId);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, { description: 'Removes one dependency of a task; NOT_FOUND if there was none.' })
  async removeTaskDependency(
    @Arg('input', () => RemoveTaskDependencyInput) input: RemoveTaskDependencyInput,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Task | null> {
    if (!(await ctx.services.dependencies.remove(ctx, input.taskId, input.dependsOnTaskId)))
      throw new NotFoundError('task dependency', `${input.taskId} -> ${input.dependsOnTaskId}`);
    clearTaskLoaders(ctx);
    return taskByIdLoader(ctx, selectedFields(info)).load(input.taskId);
  }
}
