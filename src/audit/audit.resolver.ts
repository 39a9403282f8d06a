import type { GraphQLResolveInfo } from 'graphql';
import { IsOptional, Max, MaxLength, Min } from 'class-validator';
import { Arg, Args, ArgsType, Authorized, Ctx, Field, Info, InputType, Int, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import { MAX_PAGE_SIZE } from '../config/page-size';
import { connectionType } from '../graphql/connection';
import { type Connection } from '../db/reads/keyset';
import type { Context } from '../graphql/context';
import { DateTimeScalar } from '../graphql/scalars';
import { connectionSelection } from '../graphql/selection';
import { AuditEntry } from './audit.entity';

@InputType({ description: 'All given conditions must hold.' })
export class AuditLogFilter {
  @Field({ nullable: true, description: 'API token id or JWT subject.' })
  @IsOptional()
  @MaxLength(255)
  actorId?: string;

  @Field({ nullable: true, description: 'A mutation name, e.g. updateTask.' })
  @IsOptional()
  @MaxLength(100)
  operation?: string;

  @Field({ nullable: true, description: 'e.g. task, task_execution, external_integration, system_metric, api_token.' })
  @IsOptional()
  @MaxLength(50)
  entity?: string;

  @Field({ nullable: true })
  @IsOptional()
  @MaxLength(100)
  entityId?: string;

  @Field({ nullable: true })
  @IsOptional()
  @MaxLength(128)
  requestId?: string;

  @Field(() => DateTimeScalar, { nullable: true, description: 'At or after.' })
  since?: Date;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Before.' })
  until?: Date;
}

@ArgsType()
class AuditLogArgs {
  @Field(() => Int, { nullable: true, description: `1 to ${MAX_PAGE_SIZE}, newest first; the server's default page size when omitted.` })
  @IsOptional()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'An endCursor from a previous page.' })
  @IsOptional()
  @MaxLength(200)
  after?: string | null;
}

// AuditPageInfo: the name the schema published for the audit log's page info, kept for clients.
export const AuditEntryConnection = connectionType(
  AuditEntry,
  'AuditEntry',
  'A page of the audit trail, newest first (Relay connection).',
  'AuditPageInfo',
);

@Resolver()
export class AuditResolver {
  @Authorized(Role.ADMIN)
  @Query(() => AuditEntryConnection, { description: 'The audit trail, newest first: one entry per change made through the gateway.' })
  auditLog(
    @Args(() => AuditLogArgs) { first, after }: AuditLogArgs,
    @Arg('filter', () => AuditLogFilter, { nullable: true }) filter: AuditLogFilter | null,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Connection<AuditEntry>> {
    const selection = connectionSelection(info);
    return ctx.services.audit.page({ args: { first, after }, filter, fields: selection.nodeFields, withTotal: selection.totalCount });
  }
}
