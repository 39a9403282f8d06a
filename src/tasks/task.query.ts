import { ArrayMaxSize, IsOptional, MaxLength } from 'class-validator';
import { Field, InputType, registerEnumType } from 'type-graphql';
import { BadInputError } from '../errors';
import type { Ordering, SortKey } from '../db/reads/keyset';
import { DateTimeRange, inListSql, IntRange, rangeSql } from '../graphql/filters';
import { JSONObjectScalar, JSONScalar, UUIDScalar, type JSONObject } from '../graphql/scalars';
import type { NodeSpec } from '../graphql/planner';
import { likePattern, type Params } from '../db/sql';
import { Task, TaskStatus } from './task.entity';

/** Limits on a TaskFilter: filter objects in all (the root included) and depth of and/or/not. */
export const MAX_FILTER_NODES = 50;
export const MAX_FILTER_DEPTH = 5;
export const MAX_JSON_PATH = 10;

export enum TaskJsonField {
  METADATA = 'metadata',
  REQUIREMENTS = 'requirements',
}
registerEnumType(TaskJsonField, { name: 'TaskJsonField', description: 'A JSONB column of tasks.' });

@InputType({
  description:
    'Compares the JSON value at `path` in a JSONB column. Typed: numbers compare as numbers, strings as text, booleans by equality (eq/ne); a value of another type, or no value at the path, never matches. `exists` tests for a value at the path.',
})
export class JsonPathFilter {
  @Field(() => TaskJsonField, { defaultValue: TaskJsonField.METADATA })
  field!: TaskJsonField;

  @Field(() => [String], { description: `Keys (or array indexes) from the top, e.g. ["estimate", "hours"]; 1 to ${MAX_JSON_PATH}.` })
  path!: string[];

  @Field(() => JSONScalar, { nullable: true }) eq?: unknown;
  @Field(() => JSONScalar, { nullable: true }) ne?: unknown;
  @Field(() => JSONScalar, { nullable: true }) gt?: unknown;
  @Field(() => JSONScalar, { nullable: true }) gte?: unknown;
  @Field(() => JSONScalar, { nullable: true }) lt?: unknown;
  @Field(() => JSONScalar, { nullable: true }) lte?: unknown;
  @Field(() => Boolean, { nullable: true }) exists?: boolean | null;
}

@InputType({
  description: `Which tasks to return. The conditions given must all hold; \`and\`/\`or\`/\`not\` compose filters (at most ${MAX_FILTER_NODES} filter objects, nested at most ${MAX_FILTER_DEPTH} deep).`,
})
export class TaskFilter {
  @Field(() => [TaskStatus], { nullable: true, description: 'Any of these statuses.' })
  status?: TaskStatus[] | null;

  @Field(() => String, { nullable: true })
  type?: string | null;

  @Field(() => [String], { nullable: true, description: 'Assigned to any of these.' })
  @IsOptional()
  @ArrayMaxSize(100)
  assignedTo?: string[] | null;

  @Field(() => IntRange, { nullable: true })
  priority?: IntRange | null;

  @Field(() => DateTimeRange, { nullable: true })
  createdAt?: DateTimeRange | null;

  @Field(() => DateTimeRange, { nullable: true })
  updatedAt?: DateTimeRange | null;

  @Field(() => UUIDScalar, { nullable: true, description: 'Subtasks of this task.' })
  parentId?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'true: only tasks without a parent; false: only subtasks.' })
  isRoot?: boolean | null;

  @Field(() => String, { nullable: true, description: 'Case-insensitive text in the title or the description.' })
  @IsOptional()
  @MaxLength(200)
  search?: string | null;

  @Field(() => JSONObjectScalar, { nullable: true, description: 'requirements @> this (JSONB containment).' })
  requirementsContains?: JSONObject | null;

  @Field(() => JSONObjectScalar, { nullable: true, description: 'metadata @> this (JSONB containment).' })
  metadataContains?: JSONObject | null;

  @Field(() => JsonPathFilter, { nullable: true })
  jsonPath?: JsonPathFilter | null;

  @Field(() => [TaskFilter], { nullable: true, description: 'All of these.' })
  and?: TaskFilter[] | null;

  @Field(() => [TaskFilter], { nullable: true, description: 'Any of these.' })
  or?: TaskFilter[] | null;

  @Field(() => TaskFilter, { nullable: true, description: 'Not this.' })
  not?: TaskFilter | null;
}

export enum TaskOrderField {
  PRIORITY = 'priority',
  CREATED_AT = 'created_at',
  UPDATED_AT = 'updated_at',
  TITLE = 'title',
}
registerEnumType(TaskOrderField, { name: 'TaskOrderField' });

export enum OrderDirection {
  ASC = 'ASC',
  DESC = 'DESC',
}
registerEnumType(OrderDirection, { name: 'OrderDirection', description: 'ASC puts NULLs last, DESC first.' });

@InputType({ description: 'One sort key; the task id breaks ties (in the direction of the last key).' })
export class TaskOrder {
  @Field(() => TaskOrderField)
  field!: TaskOrderField;

  @Field(() => OrderDirection)
  direction!: OrderDirection;
}

const ORDER_KEYS: Record<TaskOrderField, Omit<SortKey, 'direction'>> = {
  [TaskOrderField.PRIORITY]: { sql: 't.priority', type: 'int', nullable: true },
  [TaskOrderField.CREATED_AT]: { sql: 't.created_at', type: 'timestamptz', nullable: true },
  [TaskOrderField.UPDATED_AT]: { sql: 't.updated_at', type: 'timestamptz', nullable: true },
  [TaskOrderField.TITLE]: { sql: 't.title', type: 'text', nullable: false },
};

export const DEFAULT_TASK_ORDER: TaskOrder[] = [{ field: TaskOrderField.CREATED_AT, direction: OrderDirection.DESC }];

export function taskOrdering(orderBy: readonly TaskOrder[] | null | undefined): Ordering {
  const order = orderBy && orderBy.length > 0 ? orderBy : DEFAULT_TASK_ORDER;
  const fields = order.map((o) => o.field);
  if (new Set(fields).size !== fields.length) throw new BadInputError('orderBy', 'each field may appear once');
  const keys: SortKey[] = order.map((o) => ({ ...ORDER_KEYS[o.field], direction: o.direction }));
  keys.push({ sql: 't.id', type: 'uuid', nullable: false, direction: order.at(-1)!.direction });
  const name = (f: TaskOrderField) => Object.entries(TaskOrderField).find(([, v]) => v === f)![0];
  return { signature: `task:${order.map((o) => `${name(o.field)}.${o.direction}`).join(',')}`, keys };
}

/** Checks the caps on composition before any SQL is built. */
function checkShape(filter: TaskFilter): void {
  let nodes = 0;
  const walk = (f: TaskFilter, depth: number) => {
    nodes += 1;
    if (nodes > MAX_FILTER_NODES) throw new BadInputError('filter', `at most ${MAX_FILTER_NODES} filter objects in all`);
    if (depth > MAX_FILTER_DEPTH) throw new BadInputError('filter', `and/or/not may nest at most ${MAX_FILTER_DEPTH} deep`);
    for (const child of [...(f.and ?? []), ...(f.or ?? []), ...(f.not ? [f.not] : [])]) walk(child, depth + 1);
  };
  walk(filter, 0);
}

/** The filter as one SQL condition over the alias `t`; its values go into `p`. */
export function taskFilterSql(filter: TaskFilter | null | undefined, p: Params): string | undefined {
  if (!filter) return undefined;
  checkShape(filter);
  return compile(filter, p);
}

function compile(f: TaskFilter, p: Params): string {
  const c: string[] = [];
  if (f.status != null) c.push(inListSql('t.status', f.status, p));
  if (f.type != null) c.push(`t.type = ${p.add(f.type)}`);
  if (f.assignedTo != null) c.push(inListSql('t.assigned_to', f.assignedTo, p));
  if (f.priority) c.push(...rangeSql('t.priority', f.priority, p, 'integer'));
  if (f.createdAt) c.push(...rangeSql('t.created_at', f.createdAt, p, 'timestamptz'));
  if (f.updatedAt) c.push(...rangeSql('t.updated_at', f.updatedAt, p, 'timestamptz'));
  if (f.parentId != null) c.push(`t.parent_task_id = ${p.add(f.parentId)}::uuid`);
  if (f.isRoot != null) c.push(`t.parent_task_id IS ${f.isRoot ? '' : 'NOT '}NULL`);
  if (f.search != null) {
    const pattern = p.add(likePattern(f.search));
    c.push(`(t.title ILIKE ${pattern} OR t.description ILIKE ${pattern})`);
  }
  // `@>` on the column itself, so the GIN indexes serve.
  if (f.requirementsContains != null) c.push(`t.requirements @> ${p.json(f.requirementsContains)}`);
  if (f.metadataContains != null) c.push(`t.metadata @> ${p.json(f.metadataContains)}`);
  if (f.jsonPath) c.push(jsonPathSql(f.jsonPath, p));
  for (const sub of f.and ?? []) c.push(compile(sub, p));
  if (f.or != null) c.push(f.or.length === 0 ? 'FALSE' : `(${f.or.map((sub) => compile(sub, p)).join(' OR ')})`);
  // NULL-safe complement: a row is in `not: X` exactly when it is not in X.
  if (f.not) c.push(`NOT coalesce(${compile(f.not, p)}, FALSE)`);
  return c.length === 0 ? 'TRUE' : c.length === 1 ? c[0] : `(${c.join(' AND ')})`;
}

const JSON_OPS = { eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function jsonPathSql(j: JsonPathFilter, p: Params): string {
  if (j.path.length === 0 || j.path.length > MAX_JSON_PATH) throw new BadInputError('jsonPath.path', `give 1 to ${MAX_JSON_PATH} keys`);
  if (j.path.some((k) => k.length > 200)) throw new BadInputError('jsonPath.path', 'a key is longer than 200 characters');
  const target = `(t.${j.field} #> ${p.add(j.path)}::text[])`;
  const c: string[] = [];
  if (j.exists != null) c.push(`${target} IS ${j.exists ? 'NOT ' : ''}NULL`);
  const ops = (Object.keys(JSON_OPS) as (keyof typeof JSON_OPS)[]).filter((op) => j[op] != null);
  const types = new Set(ops.map((op) => typeof j[op]));
  if (ops.length === 0 && j.exists == null) throw new BadInputError('jsonPath', 'give a comparison (eq, ne, gt, gte, lt, lte) or exists');
  if (types.size > 1) throw new BadInputError('jsonPath', 'the values compared must all be of one type');
  for (const op of ops) {
    const value = j[op];
    switch (typeof value) {
      case 'number':
        // CASE, not AND: PostgreSQL does not promise to test the type before the cast.
        c.push(`CASE WHEN jsonb_typeof(${target}) = 'number' THEN ${target}::numeric END ${JSON_OPS[op]} ${p.add(value)}::numeric`);
        break;
      case 'string':
        c.push(`CASE WHEN jsonb_typeof(${target}) = 'string' THEN ${target} #>> '{}' END ${JSON_OPS[op]} ${p.add(value)}::text`);
        break;
      case 'boolean':
        if (op !== 'eq' && op !== 'ne') throw new BadInputError(`jsonPath.${op}`, 'booleans compare with eq or ne only');
        c.push(`CASE WHEN jsonb_typeof(${target}) = 'boolean' THEN ${target} END ${JSON_OPS[op]} ${p.json(value)}`);
        break;
      default:
        throw new BadInputError(`jsonPath.${op}`, 'compare with a number, a string or a boolean');
    }
  }
  return c.length === 1 ? c[0] : `(${c.join(' AND ')})`;
}

/** The arguments of a connection of tasks below a task (Task.subtasks, Task.dependsOn, ...) as the planner hands them over (already checked against the schema). */
interface TaskPageArgs {
  orderBy?: readonly TaskOrder[] | null;
  filter?: TaskFilter | null;
}

/** The conditions and ordering of such a connection's page (a planned `page` relation's `query`). */
export function taskPageQuery(args: Record<string, unknown>, p: Params): { where: string[]; ordering: Ordering } {
  const { orderBy, filter: given } = args as TaskPageArgs;
  const filter = taskFilterSql(given, p);
  return { where: filter ? [filter] : [], ordering: taskOrdering(orderBy) };
}

/**
 * Task for the read planner (src/graphql/planner.ts): the relations of Task it plans into the root's
 * statement. `r` is the parent row's derived table (columns named by property).
 */
export const TASK_NODE: NodeSpec = {
  type: 'Task',
  from: 'tasks t',
  alias: 't',
  entity: Task,
  needs: { parent: ['parentTaskId'] },
  relations: {
    parent: { kind: 'one', target: 'Task', on: (r) => `t.id = ${r}."parentTaskId"` },
    subtasks: {
      kind: 'page',
      target: 'Task',
      on: (r) => `t.parent_task_id = ${r}."id"`,
      query: taskPageQuery,
    },
  },
};
