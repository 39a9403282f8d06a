import type { GraphQLResolveInfo } from 'graphql';
import { type DataSource, type EntityManager } from 'typeorm';
import { auditedStatement } from '../audit/audited-statement';
import type { AuditService } from '../audit/audit.service';
import type { RequestScope } from '../request';
import { BadInputError, ConflictError, NotFoundError } from '../errors';
import { fetchPage, fetchPagesByParent, planPage, type Connection, type ConnectionArgs } from '../graphql/connection';
import { plannedOne, plannedPage } from '../graphql/planner';
import { columnMap, ident, Params, readQuery, pgError, run, selectList } from '../graphql/sql';
import { Task, TaskStatus } from './task.entity';
import type { CreateTaskInput, TaskFieldsInput, UpdateTaskInput } from './task.inputs';
import { TASK_NODE, taskFilterSql, taskOrdering, type TaskFilter, type TaskOrder } from './task.query';
import { statusName, TASK_TRANSITIONS, transition } from './task.status';

/** What a task list asks for: paging, filter, order, and which fields to read. */
export interface TaskPageQuery {
  args: ConnectionArgs;
  filter?: TaskFilter | null;
  orderBy?: TaskOrder[] | null;
  fields: Iterable<string>;
  withTotal: boolean;
  /** The GraphQL field being resolved: with it, the page and everything selected below it are one statement. */
  info?: GraphQLResolveInfo;
}

/** GraphQL fields of Task that are not columns, and the columns their resolvers need. */
const FIELD_NEEDS: Record<string, string[]> = { parent: ['parentTaskId'] };

const FINISHED = [TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED];

/** Task rules: parent links, the status state machine, safe deletion; and the task reads of the dashboard API. */
export class TaskService {
  private cols?: Map<string, string>;

  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditService,
  ) {}

  private get columns(): Map<string, string> {
    return (this.cols ??= columnMap(this.db, Task));
  }

  /** The select list for the GraphQL fields asked (the id always; no column nobody asked for). */
  select(fields: Iterable<string>, alias = 't'): string[] {
    const props = ['id'];
    for (const f of fields) props.push(...(FIELD_NEEDS[f] ?? [f]));
    return selectList(this.columns, alias, props);
  }

  private allColumns(alias?: string): string {
    return [...this.columns].map(([prop, col]) => `${alias ? `${alias}.` : ''}${ident(col)} AS ${ident(prop)}`).join(', ');
  }

  findById(id: string): Promise<Task | null> {
    return this.db.getRepository(Task).findOneBy({ id });
  }

  /** Tasks by id with only the given fields read: one statement for all the ids. */
  async findByIds(ids: readonly string[], fields?: Iterable<string>): Promise<Task[]> {
    const select = fields ? this.select(fields).join(', ') : this.allColumns('t');
    return this.db.query(`SELECT ${select} FROM tasks t WHERE t.id = ANY($1::uuid[])`, [[...ids]]);
  }

  private pageQuery(q: TaskPageQuery, extraWhere: string[] = []) {
    const ordering = taskOrdering(q.orderBy);
    const plan = planPage(q.args, ordering);
    const params = new Params();
    const filter = taskFilterSql(q.filter, params);
    return { query: { from: 'tasks t', select: this.select(q.fields), where: [...extraWhere, ...(filter ? [filter] : [])], params, ordering }, plan };
  }

  private get query() {
    return readQuery(this.db);
  }

  /**
   * A page of tasks. With `info`: the page, its count and every relation selected below it in one
   * statement (src/graphql/planner.ts); without, or when the selection cannot be planned: one
   * statement, plus one COUNT when totalCount is asked, and the relations through their loaders.
   */
  async page(q: TaskPageQuery): Promise<Connection<Task>> {
    const { query, plan } = this.pageQuery(q);
    if (q.info) {
      const { where, params, ordering } = query;
      const connection = await plannedPage<Task>(this.query, q.info, { spec: TASK_NODE, where, params, ordering, plan });
      if (connection) return connection;
    }
    return fetchPage<Task>(this.db, query, plan, q.withTotal);
  }

  /** A task by id and everything selected below it, in one statement; undefined when the selection cannot be planned. */
  readTree(id: string, info: GraphQLResolveInfo): Promise<Task | null | undefined> {
    const params = new Params();
    return plannedOne<Task>(this.query, info, { spec: TASK_NODE, where: [`t.id = ${params.add(id)}::uuid`], params });
  }

  /** A page of subtasks for each parent, all in one statement. */
  async subtaskPages(parentIds: readonly string[], q: TaskPageQuery): Promise<Connection<Task>[]> {
    const { query, plan } = this.pageQuery(q);
    return fetchPagesByParent<Task>(this.db, query, 't.parent_task_id', parentIds, plan, q.withTotal);
  }

  /**
   * One INSERT ... RETURNING. A missing parent is found by the foreign key rather than by a
   * separate look-up, so creating a task is one statement whether or not it has a parent.
   */
  async create(scope: RequestScope, input: TaskFieldsInput & { parentTaskId?: string | null }, parentField = 'parentTaskId'): Promise<Task> {
    const p = new Params();
    const names: string[] = [];
    const values: string[] = [];
    const meta = this.db.getMetadata(Task);
    for (const [prop, value] of Object.entries(input)) {
      const column = meta.findColumnWithPropertyName(prop);
      // undefined: not given; null on a NOT NULL column with a default: the default.
      if (!column || value === undefined || (value === null && !column.isNullable)) continue;
      names.push(ident(column.databaseName));
      values.push(value === null ? 'NULL' : column.type === 'jsonb' ? p.json(value) : p.add(value));
    }
    // The audit row is written by the same statement.
    const { sql, params } = auditedStatement(scope, {
      sql: `INSERT INTO tasks (${names.join(', ')}) VALUES (${values.join(', ')}) RETURNING ${this.allColumns()}`,
      params: p.values,
      operation: parentField === 'parentId' ? 'createSubtask' : 'createTask',
      entity: 'task',
      kind: 'create',
    });
    try {
      const [task] = await this.db.query(sql, params);
      return task;
    } catch (error) {
      if (pgError(error).constraint === 'tasks_parent_task_id_fkey') throw new BadInputError(parentField, `no task with id ${input.parentTaskId}`);
      throw error;
    }
  }

  async update(scope: RequestScope, input: UpdateTaskInput): Promise<Task> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(Task);
      // Locked so that two concurrent status moves cannot both pass the state machine.
      const task = await repo.findOne({ where: { id: input.id }, lock: { mode: 'pessimistic_write' } });
      if (!task) throw new NotFoundError('task', input.id);
      const { id, status, ...changes } = input;
      if (changes.parentTaskId) await this.checkParent(tx, id, changes.parentTaskId);
      const completedAt = status !== undefined && status !== task.status ? transition(task.status, status, task.completedAt, new Date()) : task.completedAt;
      await repo.update({ id }, { ...changes, ...(status !== undefined ? { status, completedAt } : {}) });
      const after = await repo.findOneByOrFail({ id });
      await this.audit.record(tx, scope, { operation: 'updateTask', entity: 'task', entityId: id, before: task, after });
      return after;
    });
  }

  /**
   * A move along the state machine in one conditional UPDATE: it changes the row only when the
   * current status allows the move, so two racing moves cannot both pass. Moving to the current
   * status is a no-op (an agent may repeat itself). Only when nothing changed is the row read,
   * to say why.
   */
  async updateStatus(scope: RequestScope, id: string, to: TaskStatus): Promise<Task> {
    const from = (Object.keys(TASK_TRANSITIONS) as TaskStatus[]).filter((s) => s === to || TASK_TRANSITIONS[s].includes(to));
    const completedAt = FINISHED.includes(to) ? 'now()' : to === TaskStatus.PENDING ? 'NULL' : 'completed_at';
    const audited = auditedStatement(scope, {
      sql: `UPDATE tasks SET status = $2::text,
         completed_at = CASE WHEN status = $2::text THEN completed_at ELSE ${completedAt} END,
         updated_at = CASE WHEN status = $2::text THEN updated_at ELSE now() END
       WHERE id = $1 AND status = ANY($3::text[]) RETURNING ${this.allColumns()}`,
      beforeSql: `SELECT ${this.allColumns()} FROM tasks WHERE id = $1`,
      params: [id, to, from],
      operation: 'updateTaskStatus',
      entity: 'task',
      kind: 'update',
    });
    const { rows } = await run<Task>(this.db, audited.sql, audited.params);
    if (rows[0]) return rows[0];
    const current = await this.db.query(`SELECT status FROM tasks WHERE id = $1`, [id]);
    if (!current[0]) throw new NotFoundError('task', id);
    transition(current[0].status, to, null, new Date()); // throws the message naming the allowed moves
    throw new ConflictError(`the task moved to ${statusName(current[0].status)} meanwhile; retry`); // raced with another move
  }

  async delete(scope: RequestScope, id: string): Promise<Task> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(Task);
      const task = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!task) throw new NotFoundError('task', id);
      const subtasks = await repo.countBy({ parentTaskId: id });
      if (subtasks > 0) {
        throw new ConflictError(`id: the task has ${subtasks} subtask(s); delete or move them first`, { field: 'id', subtasks });
      }
      await repo.delete({ id }); // its executions go with it (ON DELETE CASCADE)
      await this.audit.record(tx, scope, { operation: 'deleteTask', entity: 'task', entityId: id, before: task, after: null });
      return task;
    });
  }

  /** Finds the task's status without loading the row, for rules in other services. */
  async statusOf(tx: EntityManager, id: string, field: string): Promise<TaskStatus> {
    const task = await tx.getRepository(Task).findOne({ where: { id }, select: { id: true, status: true } });
    if (!task) throw new NotFoundError('task', id, field);
    return task.status;
  }

  private async requireExists(tx: EntityManager, id: string, field: string): Promise<void> {
    if (!(await tx.getRepository(Task).existsBy({ id }))) throw new BadInputError(field, `no task with id ${id}`);
  }

  /** A parent must exist and must not be the task itself or one of its descendants. */
  private async checkParent(tx: EntityManager, id: string, parentId: string): Promise<void> {
    await this.requireExists(tx, parentId, 'parentTaskId');
    const [{ cycle }] = await tx.query(
      `WITH RECURSIVE ancestors(id, parent_task_id) AS (
         SELECT id, parent_task_id FROM tasks WHERE id = $1
         UNION SELECT t.id, t.parent_task_id FROM tasks t JOIN ancestors a ON t.id = a.parent_task_id
       ) SELECT EXISTS (SELECT 1 FROM ancestors WHERE id = $2) AS cycle`,
      [parentId, id],
    );
    if (cycle) throw new BadInputError('parentTaskId', 'a task cannot be its own ancestor');
  }
}
