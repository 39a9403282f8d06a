import type { GraphQLResolveInfo } from 'graphql';
import { type DataSource, type EntityManager } from 'typeorm';
import { auditedStatement, changedRow, insertedRows, outcomeOf, writtenTable, type WrittenTable } from '../audit/audited-statement';
import { poolQuery, runWrite, serializedWrite } from '../db/writes';
import type { IdempotencyRequest, IdempotencyService } from '../idempotency/idempotency.service';
import type { RequestScope } from '../request';
import { BadInputError, ConflictError, NotFoundError } from '../errors';
import type { Connection } from '../db/reads/keyset';
import { TableReads, type PageRequest, type RowSet } from '../graphql/reads';
import { entityColumns, query, type EntityColumns } from '../db/rows';
import { Params, pgError } from '../db/sql';
import { Task, TaskStatus } from './task.entity';
import type { TaskFieldsInput, UpdateTaskInput } from './task.inputs';
import { TASK_NODE, taskFilterSql, taskOrdering, type TaskFilter, type TaskOrder } from './task.query';
import { moveSql, refusedMove, TASK_TRANSITIONS } from './task.status';

/** What a task list asks for: paging, filter, order, and which fields to read. */
export interface TaskPageQuery extends PageRequest {
  filter?: TaskFilter | null;
  orderBy?: TaskOrder[] | null;
}

/** The advisory lock every change of a task's parent takes (see serializedWrite). */
const PARENT_LOCK = 'taskmaster-gateway:tasks:parent';

/** Task rules: parent links, the status state machine, safe deletion; and the task reads of the dashboard API. */
export class TaskService {
  private written?: WrittenTable;
  private readonly reads: TableReads<Task>;

  constructor(
    private readonly db: DataSource,
    private readonly idempotency: IdempotencyService,
    /** For a list asked without first/last (GRAPHQL_DEFAULT_PAGE_SIZE). */
    defaultPageSize: number,
  ) {
    this.reads = new TableReads(db, TASK_NODE, defaultPageSize);
  }

  private get table(): WrittenTable {
    return (this.written ??= writtenTable(this.db, Task, 'task'));
  }

  private get columns(): EntityColumns {
    return entityColumns(this.db, Task);
  }

  /** Tasks by id with only the given fields read (every column without): one statement for all the ids. */
  async findByIds(ids: readonly string[], fields?: Iterable<string>): Promise<Task[]> {
    return this.reads.byIds(ids, fields);
  }

  private rows(q: TaskPageQuery): RowSet {
    const ordering = taskOrdering(q.orderBy);
    const params = new Params();
    const filter = taskFilterSql(q.filter, params);
    return { where: filter ? [filter] : [], params, ordering };
  }

  /** A page of tasks; with `info`, the page and everything selected below it in one statement (see TableReads.page). */
  async page(q: TaskPageQuery): Promise<Connection<Task>> {
    return this.reads.page(q, this.rows(q));
  }

  /** A task by id and everything selected below it, in one statement; undefined when the selection cannot be planned. */
  readTree(id: string, info: GraphQLResolveInfo): Promise<Task | null | undefined> {
    return this.reads.tree(id, info);
  }

  /** A page of subtasks for each parent, all in one statement. */
  async subtaskPages(parentIds: readonly string[], q: TaskPageQuery): Promise<Connection<Task>[]> {
    return this.reads.pagesByParent('parent_task_id', parentIds, q, this.rows(q));
  }

  /**
   * A page of related tasks for each task, read through a link table, all in one statement: `link`
   * joins it (`d`) to the tasks listed (`t`), `parentColumn` is its column holding the task asked
   * about, `where` narrows the tasks listed (e.g. Task.dependsOn through task_dependencies).
   */
  async linkedPages(
    link: { join: string; parentColumn: string; where?: string },
    taskIds: readonly string[],
    q: TaskPageQuery,
  ): Promise<Connection<Task>[]> {
    const rows = this.rows(q);
    const where = link.where ? [...rows.where, link.where] : rows.where;
    return this.reads.pagesByParent(link.parentColumn, taskIds, q, { ...rows, where, from: `tasks t JOIN ${link.join}` });
  }

  /**
   * One INSERT ... RETURNING, its audit row written by the same statement. A missing parent is
   * found by the foreign key rather than by a separate look-up. With an idempotency key, a repeat
   * gets the first answer (src/idempotency). `reads`: the GraphQL fields the caller reads of the
   * new task (every column without).
   */
  async create(
    scope: RequestScope,
    input: TaskFieldsInput & { parentTaskId?: string | null; idempotencyKey?: string | null },
    idempotency?: IdempotencyRequest,
    parentField = 'parentTaskId',
    reads?: Iterable<string>,
  ): Promise<Task> {
    const { idempotencyKey: _key, ...fields } = input;
    const p = new Params();
    const names: string[] = [];
    const values: string[] = [];
    for (const [prop, value] of Object.entries(fields)) {
      // null on a NOT NULL column with a default: the default.
      const a = value === null && !this.columns.columns.get(prop)?.nullable ? undefined : this.columns.assign(prop, value, p);
      if (!a) continue;
      names.push(a.column);
      values.push(a.value);
    }
    const statement = auditedStatement(scope, this.table, {
      kind: 'insert',
      operation: parentField === 'parentId' ? 'createSubtask' : 'createTask',
      insert: `INSERT INTO tasks AS w (${names.join(', ')}) VALUES (${values.join(', ')})`,
      params: p,
      // Without a key the row goes only to this response: just what it reads. A keyed answer is
      // stored for repeats that may read other fields: all of it.
      select:
        idempotency || !reads
          ? undefined
          : `SELECT 'changed' AS "__outcome", ${this.columns.select('c', reads, TASK_NODE.needs).join(', ')} FROM changed c`,
    });
    try {
      return await this.idempotency.once(
        scope,
        idempotency,
        fields,
        async (query) => insertedRows<Task>(await runWrite(query, statement))[0],
      );
    } catch (error) {
      if (pgError(error).constraint === 'tasks_parent_task_id_fkey')
        throw new BadInputError(parentField, `no task with id ${input.parentTaskId}`);
      if (pgError(error).constraint === 'tasks_retry_backoff_check') throw backoffRefused();
      throw error;
    }
  }

  /**
   * Field-level changes in one audited UPDATE over the locked row: only the fields given change,
   * a status change follows the state machine, a new parent must not make a cycle, and with
   * `expectedVersion` the change applies only to that version. Nothing is read first; when the
   * statement refuses, the row it returns (as it is now, and as the request found it) says why.
   */
  async update(scope: RequestScope, input: UpdateTaskInput, operation = 'updateTask'): Promise<Task> {
    const { id, status, expectedVersion, ...changes } = input;
    const p = new Params();
    const idRef = `${p.add(id)}::uuid`;
    const set: string[] = [];
    const where: string[] = [];
    for (const [prop, value] of Object.entries(changes)) {
      const a = this.columns.assign(prop, value, p);
      if (a) set.push(`${a.column} = ${a.value}`);
    }
    if (changes.parentTaskId) {
      // the new parent must not be the task itself or one of its descendants
      where.push(`NOT EXISTS (WITH RECURSIVE ancestors(id, parent_task_id) AS (
          SELECT id, parent_task_id FROM tasks WHERE id = ${p.add(changes.parentTaskId)}::uuid
          UNION SELECT t.id, t.parent_task_id FROM tasks t JOIN ancestors a ON t.id = a.parent_task_id
        ) SELECT 1 FROM ancestors WHERE id = o.id)`);
    }
    if (status !== undefined) {
      const move = moveSql(p, status);
      // moving to the current status alone is a no-op: no version bump, no audit row
      if (set.length === 0) where.push(`o.status <> ${p.add(status)}::text`);
      set.push(...move.set);
      where.push(move.where);
    }
    if (set.length === 0) where.push('false'); // nothing to change: answer the row as it is
    const statement = auditedStatement(scope, this.table, { kind: 'update', operation, id: idRef, set, where, expectedVersion, params: p });
    let outcome;
    try {
      // Two re-parentings checked at once could each pass and close a cycle (A under B, B under A):
      // they take turns, each checking the tree as the one before left it.
      const rows = changes.parentTaskId
        ? await serializedWrite(this.db, PARENT_LOCK, (query) => runWrite(query, statement))
        : await runWrite(poolQuery(this.db), statement);
      outcome = outcomeOf<Task>(rows);
    } catch (error) {
      if (pgError(error).constraint === 'tasks_parent_task_id_fkey')
        throw new BadInputError('parentTaskId', `no task with id ${changes.parentTaskId}`);
      if (pgError(error).constraint === 'tasks_retry_backoff_check') throw backoffRefused();
      throw error;
    }
    const result = changedRow(outcome, 'task', id, expectedVersion);
    if ('row' in result) return result.row;
    const { current, seen } = result;
    if (status !== undefined && current.status !== status && !TASK_TRANSITIONS[current.status].includes(status))
      throw refusedMove(current, seen, status);
    if (changes.parentTaskId) throw new BadInputError('parentTaskId', 'a task cannot be its own ancestor');
    return current; // nothing to change
  }

  /**
   * A move along the state machine: one conditional, audited UPDATE, so two racing moves cannot
   * both pass, and the loser gets CONFLICT with the current state. Moving to the current status
   * changes nothing (an agent may repeat itself).
   */
  updateStatus(scope: RequestScope, id: string, to: TaskStatus, expectedVersion?: number | null): Promise<Task> {
    return this.update(scope, { id, status: to, expectedVersion }, 'updateTaskStatus');
  }

  /** Deletes a task without subtasks (its executions go with it, ON DELETE CASCADE); one audited DELETE. */
  async delete(scope: RequestScope, id: string, expectedVersion?: number | null): Promise<Task> {
    const p = new Params();
    const statement = auditedStatement(scope, this.table, {
      kind: 'delete',
      operation: 'deleteTask',
      id: `${p.add(id)}::uuid`,
      where: ['NOT EXISTS (SELECT 1 FROM tasks c WHERE c.parent_task_id = o.id)'],
      expectedVersion,
      params: p,
    });
    const result = changedRow(outcomeOf<Task>(await runWrite(poolQuery(this.db), statement)), 'task', id, expectedVersion);
    if ('row' in result) return result.row;
    const [{ subtasks }] = await query<{ subtasks: number }>(
      this.db,
      `SELECT count(*)::int AS subtasks FROM tasks WHERE parent_task_id = $1`,
      [id],
    );
    throw new ConflictError(`id: the task has ${subtasks} subtask(s); delete or move them first`, { field: 'id', subtasks });
  }

  /** Finds the task's status without loading the row, for rules in other services. */
  async statusOf(tx: EntityManager, id: string, field: string): Promise<TaskStatus> {
    const task = await tx.getRepository(Task).findOne({ where: { id }, select: { id: true, status: true } });
    if (!task) throw new NotFoundError('task', id, field);
    return task.status;
  }
}

function backoffRefused(): BadInputError {
  return new BadInputError('retryBackoffMaxSeconds', 'retryBackoffMaxSeconds must be at least retryBackoffMinSeconds');
}
