import { Arg, Args, Authorized, Ctx, FieldResolver, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { ListArgs } from '../graphql/list.args';
import { UUIDScalar } from '../graphql/scalars';
import { Task } from '../tasks/task.entity';
import { TaskExecution } from './execution.entity';
import { FinishExecutionInput, StartExecutionInput } from './execution.inputs';

@Resolver(() => TaskExecution)
export class ExecutionResolver {
  @Authorized(Role.VIEWER)
  @Query(() => TaskExecution, { nullable: true, description: 'An execution by id, or null.' })
  execution(@Arg('id', () => UUIDScalar) id: string, @Ctx() ctx: Context): Promise<TaskExecution | null> {
    return ctx.loaders.executionById.load(id);
  }

  @Authorized(Role.VIEWER)
  @Query(() => [TaskExecution], { description: 'The newest executions, optionally of one task.' })
  executions(
    @Args(() => ListArgs) { first }: ListArgs,
    @Arg('taskId', () => UUIDScalar, { nullable: true }) taskId: string | undefined,
    @Ctx() ctx: Context,
  ): Promise<TaskExecution[]> {
    return ctx.services.executions.list(first, taskId ?? undefined);
  }

  @FieldResolver(() => Task, { nullable: true })
  task(@Root() execution: TaskExecution, @Ctx() ctx: Context): Promise<Task | null> | null {
    return execution.taskId ? ctx.loaders.taskById.load(execution.taskId) : null;
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => TaskExecution)
  startExecution(@Arg('input', () => StartExecutionInput) input: StartExecutionInput, @Ctx() ctx: Context): Promise<TaskExecution> {
    return ctx.services.executions.start(ctx, input);
  }

  @Authorized(Role.OPERATOR)
  @Mutation(() => TaskExecution)
  finishExecution(@Arg('input', () => FinishExecutionInput) input: FinishExecutionInput, @Ctx() ctx: Context): Promise<TaskExecution> {
    ctx.loaders.executionById.clear(input.id);
    return ctx.services.executions.finish(ctx, input);
  }
}
