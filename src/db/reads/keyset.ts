import type { DataSource } from 'typeorm';
import { MAX_PAGE_SIZE } from '../../config/page-size';
import { BadInputError } from '../../errors';
import { query } from '../rows';
import type { Params } from '../sql';
import { decodeCursor, encodeCursor, type KeyType } from './cursor';
import { RowKey, type Row } from './row';

/**
 * Keyset paging (Relay connections) in SQL: the page statement for an ordering and a cursor, the
 * connection made of its rows, a page for one parent or for many at once.
 */

/** The paging arguments of a connection (graphql/connection.ts declares them for the schema). */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

export interface PageInfo {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
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

/**
 * Newest first by a timestamp column, the id breaking ties: `newestFirst('execution', 'e', 'created_at')`.
 * The signature (`execution:CREATED_AT.DESC`) is stored in the cursors, so it must not change.
 */
export function newestFirst(name: string, alias: string, column: string, nullable = true): Ordering {
  return {
    signature: `${name}:${column.toUpperCase()}.DESC`,
    keys: [
      { sql: `${alias}.${column}`, type: 'timestamptz', nullable, direction: 'DESC' },
      { sql: `${alias}.id`, type: 'uuid', nullable: false, direction: 'DESC' },
    ],
  };
}

/** Validated paging arguments. */
export interface PagePlan {
  limit: number;
  backward: boolean;
  after?: (string | null)[];
  before?: (string | null)[];
}

/** `defaultSize`: the configured page size for a connection asked without first/last (see config/page-size.ts). */
export function planPage(args: PageArgs, ordering: Ordering, defaultSize: number): PagePlan {
  const { first, last, after, before } = args;
  if (first != null && last != null) throw new BadInputError('first', 'give first or last, not both');
  for (const [field, value] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (value != null && (value < 0 || value > MAX_PAGE_SIZE)) {
      throw new BadInputError(field, `must be between 0 and ${MAX_PAGE_SIZE}, got ${value}; page with the cursors instead`);
    }
  }
  const types = ordering.keys.map((k) => k.type);
  return {
    limit: first ?? last ?? defaultSize,
    // `before` alone means the page just before it, as `last: 20` would
    backward: last != null || (first == null && before != null && after == null),
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

/** Rows after `values` by a row-value comparison, which PostgreSQL answers by seeking in an index on the same columns. */
function rowAfter(keys: SortKey[], values: (string | null)[], p: Params): string {
  const op = keys[0].direction === 'ASC' ? '>' : '<';
  return `(${keys.map((k) => k.sql).join(', ')}) ${op} (${keys.map((k, i) => cast(k, values[i] as string, p)).join(', ')})`;
}

/** Whether `rowAfter` states "after" exactly: one direction throughout and no NULLs to reckon with. */
function seekable(keys: SortKey[], values: (string | null)[]): boolean {
  return keys.every((k, i) => k.direction === keys[0].direction && !k.nullable && values[i] !== null);
}

/**
 * The rows after a cursor, as one or two sets of conditions whose union they are. Split on the
 * NULLs of a nullable leading key, each part is an index range (the `(key, id)` indexes) read in
 * order from the cursor on: a deep page costs what the first page costs. `afterSql` alone would be
 * correct, but an OR over NULLs makes PostgreSQL filter from the start of the index.
 */
function afterParts(keys: SortKey[], values: (string | null)[], p: Params): string[][] {
  const [k0, ...rest] = keys;
  const [v0, ...restValues] = values;
  const within = (ks: SortKey[], vs: (string | null)[]) => (seekable(ks, vs) ? rowAfter(ks, vs, p) : afterSql(ks, vs, p));
  if (!k0.nullable) {
    if (seekable(keys, values)) return [[rowAfter(keys, values, p)]];
    return [[afterSql(keys, values, p), `${k0.sql} ${k0.direction === 'ASC' ? '>=' : '<='} ${cast(k0, v0 as string, p)}`]];
  }
  const notNull = { ...k0, nullable: false };
  const parts: string[][] = [];
  if (v0 === null) {
    // among the NULLs, after the cursor by the other keys; then (descending) every non-NULL
    if (rest.length > 0) parts.push([`${k0.sql} IS NULL`, within(rest, restValues)]);
    if (k0.direction === 'DESC') parts.push([`${k0.sql} IS NOT NULL`]);
  } else {
    // the non-NULLs after the cursor (a NULL key fails both comparisons), bounded on the leading key
    parts.push([within([notNull, ...rest], values), `${k0.sql} ${k0.direction === 'ASC' ? '>=' : '<='} ${cast(k0, v0, p)}`]);
    // ascending, every NULL follows a non-NULL cursor
    if (k0.direction === 'ASC') parts.push([`${k0.sql} IS NULL`]);
  }
  return parts.length > 0 ? parts : [['FALSE']];
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

/** What a caller reads of a page: cursors (the `__k` columns) and whether more rows follow (one row beyond the page). */
export interface PageReads {
  cursors: boolean;
  more: boolean;
}
const READ_ALL: PageReads = { cursors: true, more: true };

/** The keyset SELECT for one page: the page's rows plus one, in fetch order. */
export function pageSql(q: PageQuery, plan: PagePlan, extraWhere: string[] = [], reads: PageReads = READ_ALL): string {
  const keys = plan.backward ? q.ordering.keys.map((k) => ({ ...k, direction: reverse(k.direction) })) : q.ordering.keys;
  const where = [...q.where, ...extraWhere];
  // Forwards, rows after `after` and before `before`; backwards, the same with the roles swapped.
  const [from, to] = plan.backward ? [plan.before, plan.after] : [plan.after, plan.before];
  if (to)
    where.push(
      afterSql(
        keys.map((k) => ({ ...k, direction: reverse(k.direction) })),
        to,
        q.params,
      ),
    );
  const parts = from ? afterParts(keys, from, q.params) : [[]];
  const union = parts.length > 1;
  const select = [
    ...q.select,
    ...(reads.cursors ? q.ordering.keys.map((k, i) => `${keyText(k)} AS "${RowKey.cursor(i)}"`) : []),
    // the raw keys, for ordering the union of the parts
    ...(union ? keys.map((k, i) => `${k.sql} AS "${RowKey.sortKey(i)}"`) : []),
  ];
  const limit = `LIMIT ${plan.limit + (reads.more ? 1 : 0)}`;
  const branch = (conditions: string[]) => {
    const all = [...where, ...conditions];
    return `SELECT ${select.join(', ')} FROM ${q.from}${all.length ? ` WHERE ${all.join(' AND ')}` : ''} ORDER BY ${orderBySql(keys)} ${limit}`;
  };
  if (!union) return branch(parts[0]);
  const outerOrder = orderBySql(keys.map((k, i) => ({ ...k, sql: `u."${RowKey.sortKey(i)}"` })));
  return `SELECT u.* FROM (${parts.map((c) => `(${branch(c)})`).join(' UNION ALL ')}) u ORDER BY ${outerOrder} ${limit}`;
}

export function toConnection<T>(rows: Row[], plan: PagePlan, ordering: Ordering, totalCount?: number): Connection<T> {
  const more = rows.length > plan.limit;
  const page = rows.slice(0, plan.limit);
  if (plan.backward) page.reverse();
  // The rows are the nodes as they are: their paging columns (RowKey.cursor, RowKey.parent) are never a
  // GraphQL field, so copying each row without them would only make garbage.
  const nodes = page as T[];
  const cursor = (i: number) =>
    encodeCursor(
      ordering.signature,
      ordering.keys.map((_, k) => page[i][RowKey.cursor(k)] as string | null),
    );
  let edges: Edge<T>[] | undefined;
  return {
    // Cursors are made only when read (most queries read nodes only).
    get edges() {
      return (edges ??= nodes.map((node, i) => ({ cursor: cursor(i), node })));
    },
    nodes,
    pageInfo: {
      hasNextPage: plan.backward ? plan.before !== undefined : more,
      hasPreviousPage: plan.backward ? more : plan.after !== undefined,
      get startCursor() {
        return page.length > 0 ? cursor(0) : null;
      },
      get endCursor() {
        return page.length > 0 ? cursor(page.length - 1) : null;
      },
    },
    totalCount,
  };
}

/** One page of a top-level connection: one statement, plus one COUNT when `withTotal`. */
export async function fetchPage<T>(db: DataSource, q: PageQuery, plan: PagePlan, withTotal: boolean): Promise<Connection<T>> {
  const countWhere = [...q.where];
  const countParams = [...q.params.values]; // the filter's parameters, before the keyset adds its own
  const rows = await query<Row>(db, pageSql(q, plan), q.params.values);
  let total: number | undefined;
  if (withTotal) {
    const [{ count }] = await query<{ count: number }>(
      db,
      `SELECT count(*)::int AS count FROM ${q.from}${countWhere.length ? ` WHERE ${countWhere.join(' AND ')}` : ''}`,
      countParams,
    );
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
  const inner = pageSql(q, plan, [`${parentColumn} = p.id`]);
  const rows = await query<Row>(
    db,
    `SELECT p.id::text AS "${RowKey.parent}", x.* FROM unnest(${ids}::uuid[]) AS p(id) CROSS JOIN LATERAL (${inner}) x`,
    q.params.values,
  );
  const byParent = new Map<string, Row[]>(parentIds.map((id) => [id, []]));
  for (const row of rows) byParent.get(row[RowKey.parent] as string)?.push(row);

  let totals: Map<string, number> | undefined;
  if (withTotal) {
    const idsParam = `$${countParams.length + 1}`;
    const counts = await query<{ parent: string; count: number }>(
      db,
      `SELECT ${parentColumn}::text AS parent, count(*)::int AS count FROM ${q.from} WHERE ${[...countWhere, `${parentColumn} = ANY(${idsParam}::uuid[])`].join(' AND ')} GROUP BY 1`,
      [...countParams, [...parentIds]],
    );
    totals = new Map(counts.map((c) => [c.parent, c.count]));
  }
  return parentIds.map((id) => toConnection<T>(byParent.get(id) ?? [], plan, q.ordering, totals ? (totals.get(id) ?? 0) : undefined));
}
