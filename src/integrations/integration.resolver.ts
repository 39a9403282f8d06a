import type { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Authorized, Ctx, Field, Info, InputType, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import { ConnectionArgs, connectionType } from '../graphql/connection';
import { type Connection } from '../db/reads/keyset';
import type { Context } from '../graphql/context';
import { byIdLoader } from '../graphql/loaders';
import { UUIDScalar } from '../graphql/scalars';
import { connectionSelection } from '../graphql/selection';
import { ExternalIntegration, IntegrationStatus } from './integration.entity';
import { CreateIntegrationInput, UpdateIntegrationInput } from './integration.inputs';
import { IntegrationFilter } from './integration.query';
import { idempotencyOf } from '../idempotency/idempotency.service';

export const ExternalIntegrationConnection = connectionType(
  ExternalIntegration,
  'ExternalIntegration',
  'A page of integrations, newest first (Relay connection).',
);

/** Integrations by id (never their configuration), one statement per tick. */
export function integrationByIdLoader(ctx: Context) {
  return byIdLoader(ctx.loaders, 'integration', null, (ids) => ctx.services.integrations.findByIds(ids));
}

@InputType()
export class IntegrationIdInput {
  @Field(() => UUIDScalar)
  id!: string;
}

@Resolver(() => ExternalIntegration)
export class IntegrationResolver {
  @Authorized(Role.VIEWER)
  @Query(() => ExternalIntegration, { nullable: true, description: 'An integration by id, or null.' })
  integration(@Arg('id', () => UUIDScalar) id: string, @Ctx() ctx: Context): Promise<ExternalIntegration | null> {
    return integrationByIdLoader(ctx).load(id);
  }

  @Authorized(Role.VIEWER)
  @Query(() => ExternalIntegrationConnection, { description: 'Integrations, newest first, a page at a time.' })
  integrations(
    @Args(() => ConnectionArgs) args: ConnectionArgs,
    @Arg('filter', () => IntegrationFilter, { nullable: true }) filter: IntegrationFilter | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<ExternalIntegration>> {
    const selection = connectionSelection(info);
    return ctx.services.integrations.page({ args, filter, fields: selection.nodeFields, withTotal: selection.totalCount });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ExternalIntegration)
  createIntegration(
    @Arg('input', () => CreateIntegrationInput) input: CreateIntegrationInput,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<ExternalIntegration> {
    return ctx.services.integrations.create(ctx, input, idempotencyOf(ctx, info, input.idempotencyKey));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ExternalIntegration)
  updateIntegration(
    @Arg('input', () => UpdateIntegrationInput) input: UpdateIntegrationInput,
    @Ctx() ctx: Context,
  ): Promise<ExternalIntegration> {
    ctx.loaders.clear('integration.');
    return ctx.services.integrations.update(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ExternalIntegration, { description: 'Sets status ACTIVE.' })
  enableIntegration(@Arg('input', () => IntegrationIdInput) input: IntegrationIdInput, @Ctx() ctx: Context): Promise<ExternalIntegration> {
    ctx.loaders.clear('integration.');
    return ctx.services.integrations.setStatus(ctx, input.id, IntegrationStatus.ACTIVE);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ExternalIntegration, { description: 'Sets status DISABLED.' })
  disableIntegration(@Arg('input', () => IntegrationIdInput) input: IntegrationIdInput, @Ctx() ctx: Context): Promise<ExternalIntegration> {
    ctx.loaders.clear('integration.');
    return ctx.services.integrations.setStatus(ctx, input.id, IntegrationStatus.DISABLED);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ExternalIntegration, { description: 'Deletes an integration (and its stored credentials); returns it as it was.' })
  deleteIntegration(@Arg('input', () => IntegrationIdInput) input: IntegrationIdInput, @Ctx() ctx: Context): Promise<ExternalIntegration> {
    ctx.loaders.clear('integration.');
    return ctx.services.integrations.delete(ctx, input.id);
  }
}
