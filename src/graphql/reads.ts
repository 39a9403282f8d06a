import type { GraphQLResolveInfo } from 'graphql';
import type { DataSource } from 'typeorm';
import { entityColumns, query } from '../db/rows';
import { Params, preparedQuery } from '../db/sql';
import {
  fetchPage,
  fetchPagesByParent,
  planPage,
  type Connection,
  type Ordering,
  type PageArgs,
  type PagePlan,
  type PageQuery,
} from '../db/reads/keyset';
import { plannedOne, plannedPage, type NodeSpec } from './planner';

/** What a list asks for: paging, the fields read, whether totalCount is read. */
export interface PageRequest {
  args: PageArgs;
  fields: Iterable<string>;
  withTotal: boolean;
  /** The GraphQL field being resolved: with it, the page and everything selected below it are one statement. */
  info?: GraphQLResolveInfo;
}

/** Which rows, in which order: conditions over the table's alias and the parameters they refer to. */
export interface RowSet {
  where: string[];
  params: Params;
  ordering: Ordering;
  /** The table joined to another (e.g. a link table a page of related rows is read through); default the table's own FROM. */
  from?: string;
}

/** A table read as a GraphQL type: a NodeSpec when the read planner reads it, or just where its rows are. */
export type ReadTable =
  | NodeSpec
  | (Pick<NodeSpec, 'from' | 'alias' | 'entity'> & {
      /** Columns never read for an answer (sealed credentials). */
      hidden?: readonly string[];
    });

/**
 * The reads every listed type shares, in one place: rows by id, a keyset page (planned into one
 * statement with what is selected below it when the table has relations), pages for many parents
 * at once (LATERAL), a row with its tree. Each reads only the columns asked for.
 */
export class TableReads<T extends { id: string }> {
  constructor(
    private readonly db: DataSource,
    private readonly table: ReadTable,
    /** For a page asked without first/last (GRAPHQL_DEFAULT_PAGE_SIZE). */
    private readonly defaultPageSize: number,
  ) {}

  /** The select list for the GraphQL fields asked (the id always), or every column but the hidden ones. */
  select(fields?: Iterable<string>): string[] {
    const t = this.table;
    const columns = entityColumns(this.db, t.entity);
    if ('needs' in t) return columns.select(t.alias, fields, t.needs);
    const hidden = t.hidden ?? [];
    return columns.select(
      t.alias,
      [...(fields ?? columns.columns.keys())].filter((f) => !hidden.includes(f)),
    );
  }

  /** Rows by id with only the given fields read (every column without): one statement for all the ids. */
  async byIds(ids: readonly string[], fields?: Iterable<string>): Promise<T[]> {
    const { from, alias } = this.table;
    return query<T>(this.db, `SELECT ${this.select(fields).join(', ')} FROM ${from} WHERE ${alias}.id = ANY($1::uuid[])`, [[...ids]]);
  }

  /**
   * A page. With `info` and relations: the page, its count and every relation selected below it in
   * one statement (src/graphql/planner.ts); otherwise, or when the selection cannot be planned: one
   * statement, plus one COUNT when totalCount is asked, and the relations through their loaders.
   */
  async page(r: PageRequest, rows: RowSet): Promise<Connection<T>> {
    const { query: q, plan } = this.pageQuery(r, rows);
    const spec = this.spec;
    if (r.info && spec) {
      const connection = await plannedPage<T>(preparedQuery(this.db), r.info, {
        db: this.db,
        spec,
        ...rows,
        plan,
        defaultPageSize: this.defaultPageSize,
      });
      if (connection) return connection;
    }
    return fetchPage<T>(this.db, q, plan, r.withTotal);
  }

  /**
   * A page for each parent, all in one statement; `parentColumn` is the child's column holding the
   * parent id (qualified, `d.task_id`, when it is a column of a table `rows.from` joins).
   */
  async pagesByParent(parentColumn: string, parentIds: readonly string[], r: PageRequest, rows: RowSet): Promise<Connection<T>[]> {
    const { query: q, plan } = this.pageQuery(r, rows);
    const column = parentColumn.includes('.') ? parentColumn : `${this.table.alias}.${parentColumn}`;
    return fetchPagesByParent<T>(this.db, q, column, parentIds, plan, r.withTotal);
  }

  /** A row by id and everything selected below it, in one statement; undefined when the selection cannot be planned. */
  async tree(id: string, info: GraphQLResolveInfo): Promise<T | null | undefined> {
    const spec = this.spec;
    if (!spec) return undefined;
    const params = new Params();
    return plannedOne<T>(preparedQuery(this.db), info, {
      db: this.db,
      spec,
      where: [`${spec.alias}.id = ${params.add(id)}::uuid`],
      params,
      defaultPageSize: this.defaultPageSize,
    });
  }

  private get spec(): NodeSpec | undefined {
    return 'relations' in this.table ? this.table : undefined;
  }

  private pageQuery(r: PageRequest, rows: RowSet): { query: PageQuery; plan: PagePlan } {
    const plan = planPage(r.args, rows.ordering, this.defaultPageSize);
    const { where, params, ordering, from = this.table.from } = rows;
    return { query: { from, select: this.select(r.fields), where, params, ordering }, plan };
  }
}
