import { Max, MaxLength, Matches, Min } from 'class-validator';
import { Arg, Args, ArgsType, Authorized, Ctx, Field, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../config/page-size';
import type { Context } from '../graphql/context';
import { DateTimeScalar, UUIDScalar } from '../graphql/scalars';
import { ApiToken } from './api-token.entity';
import { Role } from '../auth/roles';

@InputType({ description: 'A new API token. Its secret is returned once, by this mutation only.' })
export class CreateApiTokenInput {
  @Field({ description: '1 to 100 characters, e.g. "ci-pipeline".' })
  @MaxLength(100)
  @Matches(/\S/, { message: 'name must not be empty or blank' })
  name!: string;

  @Field(() => Role)
  role!: Role;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When it stops working; null: never.' })
  expiresAt?: Date | null;
}

@InputType()
export class RevokeApiTokenInput {
  @Field(() => UUIDScalar)
  id!: string;
}

@ObjectType({ simpleResolvers: true })
export class CreatedApiToken {
  @Field({ description: 'The secret to send as Authorization: Bearer <token>. Shown only now; store it safely.' })
  token!: string;

  @Field(() => ApiToken)
  apiToken!: ApiToken;
}

@ObjectType({ simpleResolvers: true, description: 'Who the request is authenticated as.' })
export class Viewer {
  @Field({ description: 'token, jwt or anonymous.' })
  kind!: string;

  @Field({ description: 'API token id or JWT subject.' })
  id!: string;

  @Field()
  name!: string;

  @Field(() => Role)
  role!: Role;
}

@ArgsType()
class ApiTokensArgs {
  @Field(() => Int, { defaultValue: DEFAULT_PAGE_SIZE, description: `1 to ${MAX_PAGE_SIZE}.` })
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  first!: number;

  @Field({ defaultValue: false })
  includeRevoked!: boolean;
}

@Resolver()
export class TokenResolver {
  @Authorized(Role.VIEWER)
  @Query(() => Viewer, { description: 'Who this request is authenticated as, and with which role.' })
  viewer(@Ctx() ctx: Context): Viewer {
    const { kind, id, name, role } = ctx.principal;
    return { kind, id, name, role };
  }

  @Authorized(Role.ADMIN)
  @Query(() => [ApiToken], { description: 'Issued API tokens, newest first (never their secrets).' })
  apiTokens(@Args(() => ApiTokensArgs) { first, includeRevoked }: ApiTokensArgs, @Ctx() ctx: Context): Promise<ApiToken[]> {
    return ctx.services.tokens.list(first, includeRevoked);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => CreatedApiToken, { description: 'Issues an API token; the secret is in the answer and nowhere else.' })
  createApiToken(@Arg('input', () => CreateApiTokenInput) input: CreateApiTokenInput, @Ctx() ctx: Context): Promise<CreatedApiToken> {
    return ctx.services.tokens.issue(ctx, input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ApiToken, { description: 'Revokes an API token: its next request gets 401.' })
  revokeApiToken(@Arg('input', () => RevokeApiTokenInput) input: RevokeApiTokenInput, @Ctx() ctx: Context): Promise<ApiToken> {
    return ctx.services.tokens.revoke(ctx, input.id);
  }
}
