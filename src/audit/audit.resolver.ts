import { IsOptional, Max, MaxLength, Min } from 'class-validator';
import { Arg, Args, ArgsType, Authorized, Ctx, Field, InputType, Int, ObjectType, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/roles';
import { BadInputError } from '../errors';
import type { Context } from '../graphql/context';
import { DateTimeScalar } from '../graphql/scalars';
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
  @Field(() => Int, { defaultValue: 20, description: '1 to 100, newest first.' })
  @Min(1)
  @Max(100)
  first!: number;

  @Field(() => String, { nullable: true, description: 'An endCursor from a previous page.' })
  @IsOptional()
  @MaxLength(200)
  after?: string;
}

@ObjectType({ simpleResolvers: true })
export class AuditEntryEdge {
  @Field()
  cursor!: string;

  @Field(() => AuditEntry)
  node!: AuditEntry;
}

@ObjectType({ simpleResolvers: true })
export class AuditPageInfo {
  @Field()
  hasNextPage!: boolean;

  @Field()
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

// Not simple: totalCount is a promise, run only when read, and graphql-jit awaits promises from
// resolvers, not from plain property reads.
@ObjectType()
export class AuditEntryConnection {
  @Field(() => [AuditEntryEdge])
  edges!: AuditEntryEdge[];

  @Field(() => [AuditEntry])
  nodes!: AuditEntry[];

  @Field(() => AuditPageInfo)
  pageInfo!: AuditPageInfo;

  @Field(() => Int)
  totalCount!: Promise<number>;
}

const encodeCursor = (e: AuditEntry) => Buffer.from(JSON.stringify([e.occurredAt.toISOString(), e.id])).toString('base64url');

function decodeCursor(cursor: string): { occurredAt: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    const occurredAt = new Date(at);
    if (typeof id === 'string' && /^[0-9a-f-]{36}$/i.test(id) && !Number.isNaN(occurredAt.getTime())) return { occurredAt, id };
  } catch {
    // fall through
  }
  throw new BadInputError('after', 'is not a cursor from this connection');
}

@Resolver()
export class AuditResolver {
  @Authorized(Role.ADMIN)
  @Query(() => AuditEntryConnection, { description: 'The audit trail, newest first: one entry per change made through the gateway.' })
  async auditLog(
    @Args(() => AuditLogArgs) { first, after }: AuditLogArgs,
    @Arg('filter', () => AuditLogFilter, { nullable: true }) filter: AuditLogFilter | undefined,
    @Ctx() ctx: Context,
  ): Promise<AuditEntryConnection> {
    const { rows, totalCount } = await ctx.services.audit.list(filter ?? {}, first, after ? decodeCursor(after) : undefined);
    const nodes = rows.slice(0, first);
    const edges = nodes.map((node) => ({ cursor: encodeCursor(node), node }));
    return {
      edges,
      nodes,
      pageInfo: {
        hasNextPage: rows.length > first,
        hasPreviousPage: after !== undefined && after !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
      get totalCount() {
        return totalCount();
      },
    };
  }
}
