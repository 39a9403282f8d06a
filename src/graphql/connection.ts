import type { ClassType } from 'type-graphql';
import { ArgsType, Field, Int, ObjectType } from 'type-graphql';
import type { DataSource } from 'typeorm';
import { BadInputError } from '../errors';
import { decodeCursor, encodeCursor, type KeyType } from './cursor';
import type { Params } from './sql';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { nullable: true, description: `The first n after \`after\` (0 to ${MAX_PAGE_SIZE}); ${DEFAULT_PAGE_SIZE} when neither first nor last is given.` })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'An endCursor (or any edge cursor) of this connection.' })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: `The last n before \`before\` (0 to ${MAX_PAGE_SIZE}); not together with first.` })
  last?: number | null;

  @Field(() => String, { nullable: true, description: 'A startCursor (or any edge cursor) of this connection.' })
  before?: string | null;
}

@ObjectType({ description: 'Relay page information.' })
export class PageInfo {
  @Field({ description: 'Paging forwards: more rows follow. Paging backwards: true when `before` was given.' })
  hasNextPage!: boolean;

  @Field({ description: 'Paging backwards: more rows precede. Paging forwards: true when `after` was given.' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true })
  startCursor!: string | null;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  nodes: T[];
  pageInfo: PageInfo;
  /** Only computed when the query selects it. */
  totalCount?: number;
}

/** Builds the `XEdge` and `XConnection` object types for a node type. */
export function connectionType<T extends object>(node: ClassType<T>, name: string, description: string): ClassType<Connection<T>> {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field({ description: 'Opaque; pass it as after/before.' })
    cursor!: string;

    @Field(() => node)
    node!: T;
  }

  @ObjectType(`${name}Connection`, { description })
  class ConnectionType {
    @Field(() => [EdgeType])
    edges!: EdgeType[];

    @Field(() => [node], { description: 'The nodes of `edges`, for clients that need no cursors.' })
    nodes!: T[];

    @Field(() => PageInfo)
    pageInfo!: PageInfo;

    @Field(() => Int, { description: 'All rows matching the filter, ignoring paging; counted only when asked for.' })
    totalCount!: number;
  }
  return ConnectionType;
}

/** One sort key: an SQL expression over the table's alias, its direction and how it is typed. */
export interface SortKey {
  sql: string;
  direction: 'ASC' | 'DESC';
  type: KeyType;
  nullable: boolean;
}

/** An ordering: its sort keys ending with the unique id, and a signature stored in its cursors. */
export interface Ordering {
  signature: string;
  keys: SortKey[];
}

/** Validated paging arguments. */
export interface PagePlan {
  limit: number;
  backward: boolean;
  after?: (string | null)[];
  before?: (string | null)[];
}

export function planPage(args: ConnectionArgs, ordering: Ordering): PagePlan {
  const { first, last, after, before } = args;
  if (first != null && last != null) throw new BadInputError('first', 'give first or last, not both');
  for (const [field, value] of [['first', first], ['last', last]] as const) {
    if (value != null && (value < 0 || value > MAX_PAGE_SIZE)) {
      throw new BadInputError(field, `must be between 0 and ${MAX_PAGE_SIZE}, got ${value}; page with the cursors instead`);
    }
  }
  const types = ordering.keys.map((k) => k.type);
  return {
    limit: first ?? last ?? DEFAULT_PAGE_SIZE,
    backward: last != null,
    after: after != null ? decodeCursor('after', after, ordering.signature, types) : undefined,
    before: before != null ? decodeCursor('before', before, ordering.signature, types) : undefined,
  };
}

const reverse = (d: 'ASC' | 'DESC'): 'ASC' | 'DESC' => (d === 'ASC' ? 'DESC' : 'ASC');

/** ASC puts NULLs last and DESC puts them first (PostgreSQL's defaults, so plain indexes serve). */
function orderBySql(keys: SortKey[]): string {
  return keys.map((k) => `${k.sql} ${k.direction} NULLS ${k.direction === 'ASC' ? 'LAST' : 'FIRST'}`).join(', ');
}

function cast(k: SortKey, value: string, p: Params): string {
  return `${p.add(value)}::${k.type === 'int' ? 'integer' : k.type}`;
}

/**
 * Rows strictly after `values` in the ordering `keys`: the lexicographic comparison, spelled out
 * so that mixed directions and NULLs (after every value ascending, before every value descending)
 * keep the order total.
 */
function afterSql(keys: SortKey[], values: (string | null)[], p: Params, i = 0): string {
  if (i === keys.length) return 'FALSE';
  const k = keys[i];
  const v = values[i];
  let greater: string;
  let equal: string;
  if (v === null) {
    greater = k.direction === 'ASC' ? 'FALSE' : `${k.sql} IS NOT NULL`;
    equal = `${k.sql} IS NULL`;
  } else {
    const value = cast(k, v, p);
    greater = k.direction === 'ASC' ? `(${k.sql} > ${value}${k.nullable ? ` OR ${k.sql} IS NULL` : ''})` : `${k.sql} < ${value}`;
    equal = `${k.sql} = ${value}`;
  }
  const rest = afterSql(keys, values, p, i + 1);
  if (rest === 'FALSE') return greater;
  return greater === 'FALSE' ? `(${equal} AND ${rest})` : `(${greater} OR (${equal} AND ${rest}))`;
}

/**
 * A redundant bound on the leading key, so that PostgreSQL can seek in its index instead of
 * filtering: a deep page then costs what the first page costs.
 */
function leadingBound(k: SortKey, v: string | null, p: Params): string | undefined {
  if (v === null) return k.direction === 'ASC' ? `${k.sql} IS NULL` : undefined;
  return k.direction === 'DESC' ? `${k.sql} <= ${cast(k, v, p)}` : k.nullable ? undefined : `${k.sql} >= ${cast(k, v, p)}`;
}

/** The text form of each key (timestamps in UTC with microseconds, so cursors lose nothing). */
function keyText(k: SortKey): string {
  return k.type === 'timestamptz' ? `to_char(${k.sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')` : `(${k.sql})::text`;
}

export interface PageQuery {
  /** `FROM` clause, e.g. `tasks t`. */
  from: string;
  select: string[];
  where: string[];
  params: Params;
  ordering: Ordering;
}

/** The keyset SELECT for one page: the page's rows plus one, in fetch order. */
function pageSql(q: PageQuery, plan: PagePlan, extraWhere: string[] = []): string {
  const keys = plan.backward ? q.ordering.keys.map((k) => ({ ...k, direction: reverse(k.direction) })) : q.ordering.keys;
  const where = [...q.where, ...extraWhere];
  // Forwards, rows after `after` and before `before`; backwards, the same with the roles swapped.
  const [from, to] = plan.backward ? [plan.before, plan.after] : [plan.after, plan.before];
  if (from) {
    where.push(afterSql(keys, from, q.params));
    const bound = leadingBound(keys[0], from[0], q.params);
    if (bound) where.push(bound);
  }
  if (to) {
    const flipped = keys.map((k) => ({ ...k, direction: reverse(k.direction) }));
    where.push(afterSql(flipped, to, q.params));
  }
  const select = [...q.select, ...q.ordering.keys.map((k, i) => `${keyText(k)} AS "__k${i}"`)];
  return `SELECT ${select.join(', ')} FROM ${q.from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${orderBySql(keys)} LIMIT ${plan.limit + 1}`;
}

function toConnection<T>(rows: Record<string, unknown>[], plan: PagePlan, ordering: Ordering, totalCount?: number): Connection<T> {
  const more = rows.length > plan.limit;
  const page = rows.slice(0, plan.limit);
  if (plan.backward) page.reverse();
  const edges = page.map((row) => {
    const values = ordering.keys.map((_, i) => row[`__k${i}`] as string | null);
    const node = { ...row };
    ordering.keys.forEach((_, i) => delete node[`__k${i}`]);
    delete node.__parent;
    return { cursor: encodeCursor(ordering.signature, values), node: node as T };
  });
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      hasNextPage: plan.backward ? plan.before !== undefined : more,
      hasPreviousPage: plan.backward ? more : plan.after !== undefined,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}

/** One page of a top-level connection: one statement, plus one COUNT when `withTotal`. */
export async function fetchPage<T>(db: DataSource, q: PageQuery, plan: PagePlan, withTotal: boolean): Promise<Connection<T>> {
  const countWhere = [...q.where];
  const countParams = [...q.params.values]; // the filter's parameters, before the keyset adds its own
  const rows: Record<string, unknown>[] = await db.query(pageSql(q, plan), q.params.values);
  let total: number | undefined;
  if (withTotal) {
    const [{ count }] = await db.query(`SELECT count(*)::int AS count FROM ${q.from}${countWhere.length ? ` WHERE ${countWhere.join(' AND ')}` : ''}`, countParams);
    total = count;
  }
  return toConnection<T>(rows, plan, q.ordering, total);
}

/**
 * Pages of a connection for many parents at once ("the first 10 executions of each of these 50
 * tasks"): one statement with a LATERAL subquery per parent id, plus one grouped COUNT when
 * `withTotal`. `parentColumn` is the child's column holding the parent id.
 */
export async function fetchPagesByParent<T>(
  db: DataSource,
  q: PageQuery,
  parentColumn: string,
  parentIds: readonly string[],
  plan: PagePlan,
  withTotal: boolean,
): Promise<Connection<T>[]> {
  const countWhere = [...q.where];
  const countParams = [...q.params.values];
  const ids = q.params.add([...parentIds]);
  const inner = pageSql(q, plan, [`${parentColumn} = p.__parent`]);
  const rows: Record<string, unknown>[] = await db.query(
    `SELECT p.__parent::text AS "__parent", x.* FROM unnest(${ids}::uuid[]) AS p(__parent) CROSS JOIN LATERAL (${inner}) x`,
    q.params.values,
  );
  const byParent = new Map<string, Record<string, unknown>[]>(parentIds.map((id) => [id, []]));
  for (const row of rows) byParent.get(row.__parent as string)?.push(row);

  let totals: Map<string, number> | undefined;
  if (withTotal) {
    const idsParam = `$${countParams.length + 1}`;
    const counts: { parent: string; count: number }[] = await db.query(
      `SELECT ${parentColumn}::text AS parent, count(*)::int AS count FROM ${q.from} WHERE ${[...countWhere, `${parentColumn} = ANY(${idsParam}::uuid[])`].join(' AND ')} GROUP BY 1`,
      [...countParams, [...parentIds]],
    );
    totals = new Map(counts.map((c) => [c.parent, c.count]));
  }
  return parentIds.map((id) => toConnection<T>(byParent.get(id) ?? [], plan, q.ordering, totals ? (totals.get(id) ?? 0) : undefined));
}
