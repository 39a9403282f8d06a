import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { ListArgs } from '../graphql/list.args';
import { UUIDScalar } from '../graphql/scalars';
import { Task } from './task.entity';
import { CreateTaskInput, DeleteTaskInput, UpdateTaskInput } from './task.inputs';

@Resolver(() => Task)
export class TaskResolver {
  @Authorized(Role.VIEWER)
  @Query(() => Task, { nullable: true, description: 'A task by id, or null.' })
  task(@Arg('id', () => UUIDScalar) id: string, @Ctx() ctx: Context): Promise<Task | null> {
    return ctx.loaders.taskById.load(id);
  }

  @Authorized(Role.VIEWER)
  @Query(() => [Task], { description: 'The newest tasks.' })
  tasks(@Args(() => ListArgs) { first }: ListArgs, @Ctx() ctx: Context): Promise<Task[]> {
    return ctx.services.tasks.list(first);
  }

  @FieldResolver(() => Task, { nullable: true, description: 'The task this one is a subtask of.' })
  parent(@Root() task: Task, @Ctx() ctx: Context): Promise<Task | null> | null {
    return task.parentTaskId ? ctx.loaders.taskById.load(task.parentTaskId) : null;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task)
  async createTask(@Arg('input', () => CreateTaskInput) input: CreateTaskInput, @Ctx() ctx: Context): Promise<Task> {
    return ctx.services.tasks.create(ctx, input);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, { description: 'Changes a task; a status change follows the task state machine.' })
  async updateTask(@Arg('input', () => UpdateTaskInput) input: UpdateTaskInput, @Ctx() ctx: Context): Promise<Task> {
    ctx.loaders.taskById.clear(input.id);
    return ctx.services.tasks.update(ctx, input);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => Task, { description: 'Deletes a task without subtasks, with its executions; returns it as it was.' })
  async deleteTask(@Arg('input', () => DeleteTaskInput) input: DeleteTaskInput, @Ctx() ctx: Context): Promise<Task> {
    ctx.loaders.taskById.clear(input.id);
    return ctx.services.tasks.delete(ctx, input.id);
  }
}
