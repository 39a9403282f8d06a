import {
  getArgumentValues,
  getNamedType,
  isLeafType,
  Kind,
  print,
  type GraphQLSchema,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';
import type { DataSource } from 'typeorm';
import { entityColumns } from '../db/rows';
import { pageSql, planPage, toConnection, type Connection, type Ordering, type PagePlan, type PageReads } from '../db/reads/keyset';
import { ident, Params, type PreparedQuery } from '../db/sql';
import { plannedValue, RowKey, type Row } from '../db/reads/row';

/**
 * The read planner: a root field (`task(id)`, `tasks(...)`) and every relation selected below it
 * become ONE statement. Each level is a keyset page (or a row) whose relations are correlated
 * subqueries aggregated to JSON (`json_agg`, `row_to_json`), as PostGraphile and Hasura plan it;
 * PostgreSQL hands back the root's rows, each with its relations as JSON values, timestamps already
 * in the DateTime text. The selection part of a plan (which columns, which relations, which child levels) is worked
 * out once per document and operation (keyed by the root's field nodes, which Apollo's document
 * cache keeps); each request only evaluates the arguments into SQL and parameters.
 *
 * Resolvers below the root read what the statement returned with `planned(source, info)`; a
 * relation the planner left out (its arguments are invalid, two selections of one response key
 * disagree) is not there, and its resolver takes the DataLoader path, which also reports the error
 * at the right path. A selection the planner cannot read at all (a field it does not know, a
 * fragment on another type) makes the root fall back to the DataLoader path.
 */

/** A row type the planner can read: one table, its GraphQL fields as columns, its relations. */
export interface NodeSpec {
  /** The GraphQL object type. */
  type: string;
  /** `FROM` clause with the alias that filters and orderings of this table use, e.g. `tasks t`. */
  from: string;
  alias: string;
  /** The entity: its columns (GraphQL field = property) come from TypeORM's metadata. */
  entity: EntityClass;
  /** Fields that are not columns, and the columns their resolvers read (the DataLoader path). */
  needs: Record<string, string[]>;
  relations: Record<string, Relation>;
}

/** A TypeORM entity class (its columns come from the decorators' metadata). */
export type EntityClass = abstract new (...args: never[]) => object;

/** `parent` is the SQL reference to the parent row's derived table (its columns are the properties). */
/** `target` is the GraphQL type of the node related to (a planned NodeSpec's `type`), by name so node types need not import each other. */
export type Relation =
  | { kind: 'one'; target: string; on: (parent: string) => string }
  | { kind: 'first'; target: string; on: (parent: string) => string; orderBy: () => string }
  | {
      kind: 'page';
      target: string;
      on: (parent: string) => string;
      query: (args: Record<string, unknown>, p: Params) => { where: string[]; ordering: Ordering };
    }
  | { kind: 'count'; sql: (parent: string) => string }
  /** A scalar subquery whose value (JSON included) is the field's, as it is (e.g. the last log entries). */
  | { kind: 'value'; sql: (parent: string) => string };

/** Relations a feature adds to another feature's node type, as its field resolvers add the fields. */
export interface PlannedRelations {
  type: string;
  relations: Record<string, Relation>;
}

/** What one selection asks of one node type: the properties to read and the relations. */
interface Level {
  spec: NodeSpec;
  properties: string[];
  /** The select list of `properties` (worked out with the plan, once per document). */
  select: string[];
  relations: PlannedRelation[];
}

interface PlannedRelation {
  key: string;
  relation: Relation;
  field: GraphQLField<unknown, unknown>;
  node: FieldNode;
  child?: Level;
  total: boolean;
  /** Of a page: whether cursors and "more rows" are read (otherwise not computed). */
  reads?: PageReads;
  /**
   * No input-object argument (a filter, an ordering) is given, so type-graphql would not validate
   * anything: the schema's resolver hands over the planned value without calling the type-graphql
   * resolver (see withPlannedFields). Otherwise the type-graphql resolver runs, validates the
   * arguments and reads the planned value with planned().
   */
  trusted: boolean;
}

/** How to turn one relation's JSON into what its resolver returns (per request). */
interface Shaping {
  /** The row key of the value: RowKey.trusted or RowKey.checked (see PlannedRelation.trusted). */
  key: string;
  kind: Relation['kind'];
  plan?: PagePlan;
  ordering?: Ordering;
  /** The row key of the page's totalCount, when it is read. */
  total?: string;
  children: Shaping[];
}

class Unplannable extends Error {}

/** The planned node types of each schema, by GraphQL type name (registered by withPlannedFields). */
const nodeSpecs = new WeakMap<GraphQLSchema, ReadonlyMap<string, NodeSpec>>();

function nodeSpec(info: GraphQLResolveInfo, type: string): NodeSpec {
  const spec = nodeSpecs.get(info.schema)?.get(type);
  if (!spec) throw new Unplannable();
  return spec;
}

const CONNECTION_FIELDS = new Set(['edges', 'nodes', 'pageInfo', 'totalCount', '__typename']);

function collectFields(
  sets: readonly SelectionSetNode[],
  type: string,
  fragments: Record<string, FragmentDefinitionNode>,
  out: FieldNode[] = [],
  seen = new Set<string>(),
): FieldNode[] {
  for (const set of sets) {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) out.push(s);
      else {
        const fragment = s.kind === Kind.INLINE_FRAGMENT ? s : fragments[s.name.value];
        if (!fragment) throw new Unplannable();
        if (s.kind === Kind.FRAGMENT_SPREAD) {
          if (seen.has(s.name.value)) continue;
          seen.add(s.name.value);
        }
        if (fragment.typeCondition && fragment.typeCondition.name.value !== type) throw new Unplannable();
        collectFields([fragment.selectionSet], type, fragments, out, seen);
      }
    }
  }
  return out;
}

function buildLevel(spec: NodeSpec, sets: readonly SelectionSetNode[], info: GraphQLResolveInfo, db: DataSource): Level {
  const type = info.schema.getType(spec.type) as GraphQLObjectType;
  const columns = entityColumns(db, spec.entity);
  const properties = new Set(['id']);
  const byKey = new Map<string, { relation: Relation; field: GraphQLField<unknown, unknown>; nodes: FieldNode[] }>();
  const conflicting = new Set<string>();
  for (const node of collectFields(sets, spec.type, info.fragments)) {
    const name = node.name.value;
    if (name === '__typename') continue;
    if (columns.columns.has(name)) {
      properties.add(name);
      continue;
    }
    const relation = spec.relations[name];
    const field = type.getFields()[name];
    if (!relation || !field) throw new Unplannable();
    for (const need of spec.needs[name] ?? []) properties.add(need);
    const key = node.alias?.value ?? name;
    const known = byKey.get(key);
    if (!known) byKey.set(key, { relation, field, nodes: [node] });
    else if (known.field !== field || args(known.nodes[0]) !== args(node)) conflicting.add(key);
    else known.nodes.push(node);
  }
  const relations: PlannedRelation[] = [];
  for (const [key, { relation, field, nodes }] of byKey) {
    if (conflicting.has(key)) continue; // left to the DataLoader path
    const sets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
    const node = nodes[0];
    const trusted = (node.arguments ?? []).every((a) => {
      const def = field.args.find((d) => d.name === a.name.value);
      return def !== undefined && isLeafType(getNamedType(def.type));
    });
    if (relation.kind === 'count' || relation.kind === 'value') relations.push({ key, relation, field, node, total: false, trusted });
    else if (relation.kind === 'page') {
      const page = connectionLevel(nodeSpec(info, relation.target), sets, info, db);
      relations.push({ key, relation, field, node, child: page.level, total: page.total, reads: page.reads, trusted });
    } else
      relations.push({
        key,
        relation,
        field,
        node,
        child: buildLevel(nodeSpec(info, relation.target), sets, info, db),
        total: false,
        trusted,
      });
  }
  return { spec, properties: [...properties], select: columns.selectAsJson(spec.alias, properties), relations };
}

const args = (node: FieldNode) => node.arguments?.map((a) => print(a)).join(',') ?? '';

/** A connection's selection: its node level (from `nodes` and `edges.node`) and whether totalCount is read. */
function connectionLevel(spec: NodeSpec, sets: readonly SelectionSetNode[], info: GraphQLResolveInfo, db: DataSource): ConnectionPlan {
  const fields = collectFieldsAnyType(sets, info.fragments);
  const nodeSets: SelectionSetNode[] = [];
  let total = false;
  const reads: PageReads = { cursors: false, more: false };
  for (const f of fields) {
    const name = f.name.value;
    if (!CONNECTION_FIELDS.has(name)) throw new Unplannable();
    if (name === 'totalCount') total = true;
    if (name === 'nodes' && f.selectionSet) nodeSets.push(f.selectionSet);
    if (name === 'edges' && f.selectionSet) {
      for (const e of collectFieldsAnyType([f.selectionSet], info.fragments)) {
        if (e.name.value === 'node' && e.selectionSet) nodeSets.push(e.selectionSet);
        if (e.name.value === 'cursor') reads.cursors = true;
      }
    }
    if (name === 'pageInfo' && f.selectionSet) {
      for (const p of collectFieldsAnyType([f.selectionSet], info.fragments)) {
        if (p.name.value === 'startCursor' || p.name.value === 'endCursor') reads.cursors = true;
        if (p.name.value === 'hasNextPage' || p.name.value === 'hasPreviousPage') reads.more = true;
      }
    }
  }
  return { level: buildLevel(spec, nodeSets, info, db), total, reads };
}

interface ConnectionPlan {
  level: Level;
  total: boolean;
  reads: PageReads;
}

/** Fields of a wrapper type (connection, edge): fragments on it can only be on that one type. */
function collectFieldsAnyType(
  sets: readonly SelectionSetNode[],
  fragments: Record<string, FragmentDefinitionNode>,
  out: FieldNode[] = [],
): FieldNode[] {
  for (const set of sets) {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) out.push(s);
      else if (s.kind === Kind.INLINE_FRAGMENT) collectFieldsAnyType([s.selectionSet], fragments, out);
      else if (fragments[s.name.value]) collectFieldsAnyType([fragments[s.name.value].selectionSet], fragments, out);
    }
  }
  return out;
}

const plans = new WeakMap<readonly FieldNode[], ConnectionPlan | null>();

/**
 * The selection plan of a root field, worked out once per document (null: not plannable).
 * `connection`: the root is a connection (its nodes are the level).
 */
function rootPlan(info: GraphQLResolveInfo, given: NodeSpec, connection: boolean, db: DataSource): ConnectionPlan | null {
  let plan = plans.get(info.fieldNodes);
  if (plan === undefined) {
    // The registered spec: it carries the relations other features add to this type.
    const spec = nodeSpecs.get(info.schema)?.get(given.type) ?? given;
    const sets = info.fieldNodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
    try {
      plan = connection
        ? connectionLevel(spec, sets, info, db)
        : { level: buildLevel(spec, sets, info, db), total: false, reads: { cursors: false, more: false } };
    } catch (error) {
      if (!(error instanceof Unplannable)) throw error;
      plan = null;
    }
    plans.set(info.fieldNodes, plan);
  }
  return plan;
}

/**
 * `SELECT r.*, (relation) AS "@key", ... FROM (base) r` for a level: `base` selects its
 * properties from the level's table. Relations whose arguments fail are left out (see above).
 */
function levelSql(
  level: Level,
  base: string,
  depth: number,
  p: Params,
  info: GraphQLResolveInfo,
  shapings: Shaping[],
  pageSize: number,
): string {
  if (level.relations.length === 0) return base;
  const r = `r${depth}`;
  const extra: string[] = [];
  for (const rel of level.relations) {
    const relation = rel.relation;
    const key = rel.trusted ? RowKey.trusted(rel.key) : RowKey.checked(rel.key);
    if (relation.kind === 'count' || relation.kind === 'value') {
      extra.push(`(${relation.sql(r)}) AS ${ident(key)}`);
      shapings.push({ key, kind: relation.kind, children: [] });
      continue;
    }
    const child = rel.child!;
    const target = child.spec;
    const children: Shaping[] = [];
    const select = child.select;
    if (relation.kind === 'one' || relation.kind === 'first') {
      const order = relation.kind === 'first' ? ` ORDER BY ${relation.orderBy()} LIMIT 1` : '';
      const inner = levelSql(
        child,
        `SELECT ${select.join(', ')} FROM ${target.from} WHERE ${relation.on(r)}${order}`,
        depth + 1,
        p,
        info,
        children,
        pageSize,
      );
      extra.push(`(SELECT row_to_json(j) FROM (${inner}) j) AS ${ident(key)}`);
      shapings.push({ key, kind: relation.kind, children });
      continue;
    }
    // a page: its arguments are this request's; invalid ones leave the relation to its resolver
    const mark = p.values.length;
    let sql: string;
    let plan: PagePlan;
    let ordering: Ordering;
    try {
      const values = getArgumentValues(rel.field, rel.node, info.variableValues);
      const q = relation.query(values, p);
      ordering = q.ordering;
      plan = planPage(values, ordering, pageSize);
      const where = [relation.on(r), ...q.where];
      const inner = levelSql(
        child,
        pageSql({ from: target.from, select, where, params: p, ordering }, plan, [], rel.reads),
        depth + 1,
        p,
        info,
        children,
        pageSize,
      );
      sql = `(SELECT coalesce(json_agg(j), '[]'::json) FROM (${inner}) j) AS ${ident(key)}`;
      if (rel.total) sql += `, (SELECT count(*)::int FROM ${target.from} WHERE ${where.join(' AND ')}) AS ${ident(RowKey.count(rel.key))}`;
    } catch {
      p.values.length = mark;
      continue;
    }
    extra.push(sql);
    shapings.push({ key, kind: 'page', plan, ordering, total: rel.total ? RowKey.count(rel.key) : undefined, children });
  }
  return extra.length === 0 ? base : `SELECT ${r}.*, ${extra.join(', ')} FROM (${base}) ${r}`;
}

/** Turns each planned relation's JSON into what its resolver returns, all the way down. */
function shape(rows: Row[], shapings: Shaping[]): void {
  if (shapings.length === 0) return;
  for (const row of rows) {
    for (const s of shapings) {
      const key = s.key;
      const value = row[key];
      if (s.kind === 'page') {
        const page = value as Row[];
        shape(page, s.children);
        row[key] = toConnection(page, s.plan!, s.ordering!, s.total ? (row[s.total] as number) : undefined);
      } else if (value && s.children.length > 0) shape([value as Row], s.children);
    }
  }
}

/** What the statement returned for the field being resolved, or undefined when it was not planned. */
export function planned<T>(source: object, info: GraphQLResolveInfo): T | undefined {
  return plannedValue<T>(source, String(info.path.key));
}

/**
 * Wraps the resolvers of the planned relations (once, after the schema is built): a value the
 * statement returned for a relation without input-object arguments is handed over as it is, without
 * type-graphql building and converting the arguments of every row; anything else goes to the
 * type-graphql resolver as before.
 */
export function withPlannedFields(
  schema: GraphQLSchema,
  given: readonly NodeSpec[],
  added: readonly PlannedRelations[] = [],
): GraphQLSchema {
  const specs = given.map((spec) => ({
    ...spec,
    relations: Object.assign({}, spec.relations, ...added.filter((a) => a.type === spec.type).map((a) => a.relations)) as Record<
      string,
      Relation
    >,
  }));
  nodeSpecs.set(schema, new Map(specs.map((spec) => [spec.type, spec])));
  for (const spec of specs) {
    const type = schema.getType(spec.type) as GraphQLObjectType;
    for (const name of Object.keys(spec.relations)) {
      const field = type.getFields()[name];
      const resolve = field.resolve!;
      field.resolve = (source, args, context, info) => {
        const value = (source as Row)[RowKey.trusted(String(info.path.key))];
        return value !== undefined ? value : resolve(source, args, context, info);
      };
    }
  }
  return schema;
}

export interface PlannedRoot {
  /** Whose entity metadata gives the columns. */
  db: DataSource;
  spec: NodeSpec;
  where: string[];
  params: Params;
  /** For a nested page asked without first/last (GRAPHQL_DEFAULT_PAGE_SIZE). */
  defaultPageSize: number;
}

type Query = PreparedQuery;

/** A root connection in one statement, or undefined when its selection cannot be planned. */
export async function plannedPage<T>(
  query: Query,
  info: GraphQLResolveInfo,
  root: PlannedRoot & { ordering: Ordering; plan: PagePlan },
): Promise<Connection<T> | undefined> {
  const selection = rootPlan(info, root.spec, true, root.db);
  if (!selection) return undefined;
  const { spec, where, params: p, ordering, plan } = root;
  const countSql = `SELECT count(*)::int FROM ${spec.from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}`;
  const shapings: Shaping[] = [];
  const base = pageSql({ from: spec.from, select: selection.level.select, where, params: p, ordering }, plan, [], selection.reads);
  // The root's rows come back as rows (PostgreSQL builds JSON only for the relations below them):
  // one row of totalCount (RowKey.rootTotal), joined to the page, so an empty
  // page still carries its count (its one row has a null id). The page keeps its order through the join (one outer row: a nested loop).
  const total = ident(RowKey.rootTotal);
  const sql = `SELECT r.*, c.${total} FROM (SELECT ${selection.total ? `(${countSql})` : 'NULL::int'} AS ${total}) c LEFT JOIN LATERAL (${levelSql(
    selection.level,
    base,
    0,
    p,
    info,
    shapings,
    root.defaultPageSize,
  )}) r ON TRUE`;
  const result = await query<Row>(sql, p.values);
  const rows = result[0].id === null ? [] : result;
  shape(rows, shapings);
  return toConnection<T>(rows, plan, ordering, selection.total ? ((result[0][RowKey.rootTotal] as number | null) ?? undefined) : undefined);
}

/** A root row (`WHERE` given) in one statement; null when none matches, undefined when not plannable. */
export async function plannedOne<T>(query: Query, info: GraphQLResolveInfo, root: PlannedRoot): Promise<T | null | undefined> {
  const selection = rootPlan(info, root.spec, false, root.db);
  if (!selection) return undefined;
  const { spec, where, params: p } = root;
  const shapings: Shaping[] = [];
  const base = `SELECT ${selection.level.select.join(', ')} FROM ${spec.from} WHERE ${where.join(' AND ')}`;
  const [row] = await query<Row>(levelSql(selection.level, base, 0, p, info, shapings, root.defaultPageSize), p.values);
  if (row) shape([row], shapings);
  return (row as T | undefined) ?? null;
}
