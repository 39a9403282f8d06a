import { Arg, Args, Authorized, Ctx, FieldResolver, Info, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../auth/roles';
import type { GraphQLResolveInfo } from 'graphql';
import { ConnectionArgs, connectionType } from '../graphql/connection';
import { type Connection } from '../db/reads/keyset';
import type { Context } from '../graphql/context';
import { UUIDScalar } from '../graphql/scalars';
import { planned } from '../graphql/planner';
import { connectionSelection, selectedFields } from '../graphql/selection';
import { Task } from './task.entity';
import { CreateSubtaskInput, CreateTaskInput, DeleteTaskInput, UpdateTaskInput, UpdateTaskStatusInput } from './task.inputs';
import { clearTaskLoaders, subtasksLoader, taskByIdLoader } from './task.loaders';
import { TaskFilter, TaskOrder } from './task.query';
import { describeMoves } from './task.status';
import { idempotencyOf } from '../idempotency/idempotency.service';

export const TaskConnection = connectionType(Task, 'Task', 'A page of tasks (Relay connection, keyset cursors).');

@Resolver(() => Task)
export class TaskResolver {
  @Authorized(Role.VIEWER)
  @Query(() => Task, { nullable: true, description: 'A task by id, or null.' })
  async task(@Arg('id', () => UUIDScalar) id: string, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<Task | null> {
    const task = await ctx.services.tasks.readTree(id, info);
    return task !== undefined ? task : taskByIdLoader(ctx, selectedFields(info)).load(id);
  }

  @Authorized(Role.VIEWER)
  @Query(() => TaskConnection, { description: 'Tasks, filtered and ordered (default: newest first), a page at a time.' })
  tasks(
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('filter', () => TaskFilter, { nullable: true }) filter: TaskFilter | null,
    @Arg('orderBy', () => [TaskOrder], { nullable: true, description: 'Sort keys in order; default CREATED_AT DESC. The id breaks ties.' })
    orderBy: TaskOrder[] | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<Task>> {
    const selection = connectionSelection(info);
    return ctx.services.tasks.page({ args, filter, orderBy, fields: selection.nodeFields, withTotal: selection.totalCount, info });
  }

  @FieldResolver(() => Task, { nullable: true, description: 'The task this one is a subtask of.' })
  parent(@Root() task: Task, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo): Promise<Task | null> | Task | null {
    const read = planned<Task | null>(task, info);
    if (read !== undefined) return read;
    return task.parentTaskId ? taskByIdLoader(ctx, selectedFields(info)).load(task.parentTaskId) : null;
  }

  @FieldResolver(() => TaskConnection, { description: 'The subtasks of this task, a page at a time (default: newest first).' })
  subtasks(
    @Root() task: Task,
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('filter', () => TaskFilter, { nullable: true }) filter: TaskFilter | null,
    @Arg('orderBy', () => [TaskOrder], { nullable: true }) orderBy: TaskOrder[] | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<Task>> | Connection<Task> {
    return planned<Connection<Task>>(task, info) ?? subtasksLoader(ctx, args, filter, orderBy, connectionSelection(info)).load(task.id);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, { description: 'Creates a task (one INSERT).' })
  async createTask(
    @Arg('input', () => CreateTaskInput) input: CreateTaskInput,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Task> {
    const task = await ctx.services.tasks.create(
      ctx,
      input,
      idempotencyOf(ctx, info, input.idempotencyKey),
      'parentTaskId',
      selectedFields(info),
    );
    clearTaskLoaders(ctx);
    return task;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, { description: 'Creates a subtask of an existing task.' })
  async createSubtask(
    @Arg('input', () => CreateSubtaskInput) input: CreateSubtaskInput,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Task> {
    const { parentId, ...fields } = input;
    const task = await ctx.services.tasks.create(
      ctx,
      { ...fields, parentTaskId: parentId },
      idempotencyOf(ctx, info, input.idempotencyKey),
      'parentId',
      selectedFields(info),
    );
    clearTaskLoaders(ctx);
    return task;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, {
    description:
      'Changes a task; a status change follows the task state machine. With expectedVersion, only if nobody changed it since you read it.',
  })
  async updateTask(@Arg('input', () => UpdateTaskInput) input: UpdateTaskInput, @Ctx() ctx: Context): Promise<Task> {
    clearTaskLoaders(ctx);
    return ctx.services.tasks.update(ctx, input);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, {
    description: `Moves a task along the state machine: ${describeMoves()}. Moving to the current status changes nothing. A move that lost a race with another writer is a CONFLICT with the current status.`,
  })
  async updateTaskStatus(@Arg('input', () => UpdateTaskStatusInput) input: UpdateTaskStatusInput, @Ctx() ctx: Context): Promise<Task> {
    clearTaskLoaders(ctx);
    return ctx.services.tasks.updateStatus(ctx, input.id, input.status, input.expectedVersion);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, { description: 'Deletes a task without subtasks, with its executions; returns it as it was.' })
  async deleteTask(@Arg('input', () => DeleteTaskInput) input: DeleteTaskInput, @Ctx() ctx: Context): Promise<Task> {
    clearTaskLoaders(ctx);
    ctx.loaders.clear('execution.');
    return ctx.services.tasks.delete(ctx, input.id, input.expectedVersion);
  }
}
