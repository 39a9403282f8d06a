import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Authorized, Ctx, Field, FieldResolver, Info, InputType, Int, Mutation, ObjectType, Resolver, Root } from 'type-graphql';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { DateTimeScalar, JSONObjectScalar, JSONScalar, UUIDScalar, type JSONObject } from '../graphql/scalars';
import { TaskExecution } from '../executions/execution.entity';
import { clearExecutionLoaders } from '../executions/execution.loaders';
import { IDEMPOTENCY_KEY_DESCRIPTION } from '../idempotency/descriptions';
import { idempotencyOf } from '../idempotency/idempotency.service';
import type { ClaimedExecution } from './queue.service';

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

  @Field({ description: 'The leaseToken claimTask answered.' })
  @IsString()
  @MaxLength(200)
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

@Resolver(() => TaskExecution)
export class QueueResolver {
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

  @FieldResolver(() => String, {
    nullable: true,
    description: 'The lease token: only in the answer of the claimTask that claimed it (stored as a hash); null elsewhere.',
  })
  leaseToken(@Root() execution: ClaimedExecution): string | null {
    return execution.leaseToken ?? null;
  }
}
