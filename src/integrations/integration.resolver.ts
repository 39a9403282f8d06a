import { Arg, Args, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import type { Context } from '../graphql/context';
import { ListArgs } from '../graphql/list.args';
import { UUIDScalar } from '../graphql/scalars';
import { ExternalIntegration } from './integration.entity';
import { CreateIntegrationInput, UpdateIntegrationInput } from './integration.inputs';

@Resolver(() => ExternalIntegration)
export class IntegrationResolver {
  @Authorized(Role.VIEWER)
  @Query(() => ExternalIntegration, { nullable: true, description: 'An integration by id, or null.' })
  integration(@Arg('id', () => UUIDScalar) id: string, @Ctx() ctx: Context): Promise<ExternalIntegration | null> {
    return ctx.loaders.integrationById.load(id);
  }

  @Authorized(Role.VIEWER)
  @Query(() => [ExternalIntegration], { description: 'The newest integrations.' })
  integrations(@Args(() => ListArgs) { first }: ListArgs, @Ctx() ctx: Context): Promise<ExternalIntegration[]> {
    return ctx.services.integrations.list(first);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ExternalIntegration)
  createIntegration(@Arg('input', () => CreateIntegrationInput) input: CreateIntegrationInput, @Ctx() ctx: Context): Promise<ExternalIntegration> {
    return ctx.services.integrations.create(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ExternalIntegration)
  updateIntegration(@Arg('input', () => UpdateIntegrationInput) input: UpdateIntegrationInput, @Ctx() ctx: Context): Promise<ExternalIntegration> {
    ctx.loaders.integrationById.clear(input.id);
    return ctx.services.integrations.update(ctx, input);
  }
}
