import type { ClassType } from 'type-graphql';
import { ArgsType, Field, Int, ObjectType } from 'type-graphql';
import { MAX_PAGE_SIZE } from '../config/page-size';
import type { Connection, PageInfo as PageInfoFields } from '../db/reads/keyset';

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, {
    nullable: true,
    description: `The first n after \`after\` (0 to ${MAX_PAGE_SIZE}); the server's default page size when neither first nor last is given (the last ones when only \`before\` is).`,
  })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'An endCursor (or any edge cursor) of this connection.' })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: `The last n before \`before\` (0 to ${MAX_PAGE_SIZE}); not together with first.` })
  last?: number | null;

  @Field(() => String, { nullable: true, description: 'A startCursor (or any edge cursor) of this connection.' })
  before?: string | null;
}

/** Relay page information; `name` other than PageInfo only for a type the schema already published under its own name. */
function pageInfoType(name: string) {
  @ObjectType(name, { simpleResolvers: true, description: 'Relay page information.' })
  class PageInfoType implements PageInfoFields {
    @Field({ description: 'Paging forwards: more rows follow. Paging backwards: true when `before` was given.' })
    hasNextPage!: boolean;

    @Field({ description: 'Paging backwards: more rows precede. Paging forwards: true when `after` was given.' })
    hasPreviousPage!: boolean;

    @Field(() => String, { nullable: true })
    startCursor!: string | null;

    @Field(() => String, { nullable: true })
    endCursor!: string | null;
  }
  return PageInfoType;
}

export const PageInfo = pageInfoType('PageInfo');

/**
 * Builds the `XEdge` and `XConnection` object types for a node type. `pageInfoName` keeps the name
 * of a page-info type published before all connections shared PageInfo (the audit log's).
 */
export function connectionType<T extends object>(
  node: ClassType<T>,
  name: string,
  description: string,
  pageInfoName?: string,
): ClassType<Connection<T>> {
  const pageInfo = pageInfoName ? pageInfoType(pageInfoName) : PageInfo;
  @ObjectType(`${name}Edge`, { simpleResolvers: true })
  class EdgeType {
    @Field({ description: 'Opaque; pass it as after/before.' })
    cursor!: string;

    @Field(() => node)
    node!: T;
  }

  @ObjectType(`${name}Connection`, { simpleResolvers: true, description })
  class ConnectionType {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => [node], { description: 'The nodes of `edges`, for clients that need no cursors.' })
    nodes!: T[];

    @Field(() => pageInfo)
    pageInfo!: PageInfoFields;

    @Field(() => Int, { description: 'All rows matching the filter, ignoring paging; counted only when asked for.' })
    totalCount!: number;
  }
  return ConnectionType;
}
