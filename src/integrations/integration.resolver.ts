import { Arg, Args, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import type { Context } from '../graphql/context';
import { ListArgs } from '../graphql/list.args';
import { UUIDScalar } from '../graphql/scalars';
import { ExternalIntegration } from './integration.entity';
import { CreateIntegrationInput, UpdateIntegrationInput } from './integration.inputs';

@Resolver(() => ExternalIntegration)
export class IntegrationResolver {
  @Query(() => ExternalIntegration, { nullable: true, description: 'An integration by id, or null.' })
  integration(@Arg('id', () => UUIDScalar) id: string, @Ctx() ctx: Context): Promise<ExternalIntegration | null> {
    return ctx.loaders.integrationById.load(id);
  }

  @Query(() => [ExternalIntegration], { description: 'The newest integrations.' })
  integrations(@Args(() => ListArgs) { first }: ListArgs, @Ctx() ctx: Context): Promise<ExternalIntegration[]> {
    return ctx.services.integrations.list(first);
  }

  @Mutation(() => ExternalIntegration)
  createIntegration(@Arg('input', () => CreateIntegrationInput) input: CreateIntegrationInput, @Ctx() ctx: Context): Promise<ExternalIntegration> {
    return ctx.services.integrations.create(ctx, input);
  }

  @Mutation(() => ExternalIntegration)
  updateIntegration(@Arg('input', () => UpdateIntegrationInput) input: UpdateIntegrationInput, @Ctx() ctx: Context): Promise<ExternalIntegration> {
    ctx.loaders.integrationById.clear(input.id);
    return ctx.services.integrations.update(ctx, input);
  }
}
