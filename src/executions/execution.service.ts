import type { GraphQLResolveInfo } from 'graphql';
import type { DataSource } from 'typeorm';
import { auditedStatement, insertedRows, outcomeOf, writtenTable, type WrittenTable } from '../audit/audited-statement';
import { runWrite } from '../db/writes';
import type { IdempotencyRequest, IdempotencyService } from '../idempotency/idempotency.service';
import type { RequestScope } from '../request';
import { BadInputError, ConflictError, NotFoundError } from '../errors';
import type { Connection } from '../graphql/connection';
import { TableReads, type PageRequest, type RowSet } from '../graphql/reads';
import { query } from '../db/rows';
import { Params } from '../db/sql';
import { TaskStatus } from '../tasks/task.entity';
import { isFinal, statusName } from '../tasks/task.status';
import type { TaskService } from '../tasks/task.service';
import { ExecutionStatus, TaskExecution } from './execution.entity';
import type { FinishExecutionInput, StartExecutionInput } from './execution.inputs';
import { leaseLost, leaseTokenHash } from './lease';
import { EXECUTION_NODE, EXECUTION_ORDERING, executionFilterSql, type ExecutionFilter } from './execution.query';

const UNFINISHED = [ExecutionStatus.PENDING, ExecutionStatus.RUNNING];
const FINAL_TASK_STATUSES = [TaskStatus.COMPLETED, TaskStatus.CANCELLED];
/** Entries one appendExecutionLog call may add. */
export const MAX_LOG_ENTRIES = 1000;

function leaseTokenRequired(): BadInputError {
  return new BadInputError('leaseToken', 'the execution was claimed (claimTask): give the leaseToken its claim answered');
}

export interface ExecutionPageQuery extends PageRequest {
  filter?: ExecutionFilter | null;
}

/** Execution rules: runs start on open tasks and finish exactly once; and the execution reads. */
export class ExecutionService {
  private written?: WrittenTable;
  private readonly reads: TableReads<TaskExecution>;

  constructor(
    private readonly db: DataSource,
    private readonly tasks: TaskService,
    private readonly idempotency: IdempotencyService,
    /** For a list asked without first/last (GRAPHQL_DEFAULT_PAGE_SIZE). */
    defaultPageSize: number,
    /** Finishes claimed executions (given a lease token): the queue's finish, which also moves the task. */
    private readonly finishClaimed?: (
      scope: RequestScope,
      input: Omit<FinishExecutionInput, 'idempotencyKey' | 'leaseToken'> & { leaseToken: string },
      idempotency?: IdempotencyRequest,
    ) => Promise<TaskExecution>,
  ) {
    this.reads = new TableReads(db, EXECUTION_NODE, defaultPageSize);
  }

  private get table(): WrittenTable {
    return (this.written ??= writtenTable(this.db, TaskExecution, 'task_execution', { secret: ['leaseTokenHash'] }));
  }

  /** Executions by id with only the given fields read (no `logs` unless asked; every column without). */
  async findByIds(ids: readonly string[], fields?: Iterable<string>): Promise<TaskExecution[]> {
    return this.reads.byIds(ids, fields);
  }

  private rows(q: ExecutionPageQuery): RowSet {
    const params = new Params();
    return { where: executionFilterSql(q.filter, params), params, ordering: EXECUTION_ORDERING };
  }

  /** A page of executions; with `info`, planned into one statement with what is selected below it (see TableReads.page). */
  async page(q: ExecutionPageQuery): Promise<Connection<TaskExecution>> {
    return this.reads.page(q, this.rows(q));
  }

  /** An execution by id and everything selected below it, in one statement; undefined when the selection cannot be planned. */
  readTree(id: string, info: GraphQLResolveInfo): Promise<TaskExecution | null | undefined> {
    return this.reads.tree(id, info);
  }

  /** "The first N executions of each of these tasks": one statement (LATERAL), whatever the number of tasks. */
  async pagesByTask(taskIds: readonly string[], q: ExecutionPageQuery): Promise<Connection<TaskExecution>[]> {
    return this.reads.pagesByParent('task_id', taskIds, q, this.rows(q));
  }

  /** The newest execution of each task (or null), in one statement. */
  async latestByTask(taskIds: readonly string[], fields: Iterable<string>): Promise<(TaskExecution | null)[]> {
    const rows = await query<TaskExecution & { __task: string }>(
      this.db,
      `SELECT DISTINCT ON (e.task_id) e.task_id::text AS "__task", ${this.reads.select(fields).join(', ')}
       FROM task_executions e WHERE e.task_id = ANY($1::uuid[])
       ORDER BY e.task_id, e.created_at DESC NULLS LAST, e.id DESC`,
      [[...taskIds]],
    );
    const byTask = new Map(rows.map(({ __task, ...row }) => [__task, row]));
    return taskIds.map((id) => byTask.get(id) ?? null);
  }

  /** How many executions each task has, in one statement. */
  async countByTask(taskIds: readonly string[]): Promise<number[]> {
    const rows = await query<{ task: string; count: number }>(
      this.db,
      `SELECT task_id::text AS task, count(*)::int AS count FROM task_executions WHERE task_id = ANY($1::uuid[]) GROUP BY 1`,
      [[...taskIds]],
    );
    const byTask = new Map(rows.map((r) => [r.task, r.count]));
    return taskIds.map((id) => byTask.get(id) ?? 0);
  }

  /**
   * One audited INSERT ... SELECT from the task: the run is created only if the task exists and is
   * open. Only when nothing was inserted is the task read, to say why.
   */
  async start(scope: RequestScope, input: StartExecutionInput, idempotency?: IdempotencyRequest): Promise<TaskExecution> {
    const { idempotencyKey: _key, ...fields } = input;
    const p = new Params();
    const statement = auditedStatement(scope, this.table, {
      kind: 'insert',
      operation: 'startExecution',
      insert: `INSERT INTO task_executions AS w (task_id, agent_type, agent_config, status, started_at)
       SELECT t.id, ${p.add(input.agentType)}, ${p.json(input.agentConfig ?? {})}, '${ExecutionStatus.RUNNING}', now()
       FROM tasks t WHERE t.id = ${p.add(input.taskId)}::uuid AND t.status <> ALL(${p.add(FINAL_TASK_STATUSES)}::text[])`,
      params: p,
    });
    return this.idempotency.once(scope, idempotency, fields, async (query) => {
      const [started] = insertedRows<TaskExecution>(await runWrite(query, statement));
      if (started) return started;
      // thrown inside, so that a keyed request's key is rolled back with it and a retry runs again
      const status = await this.db.transaction((tx) => this.tasks.statusOf(tx, input.taskId, 'taskId'));
      if (isFinal(status)) throw new BadInputError('taskId', `the task is ${statusName(status)}; executions start only on open tasks`);
      throw new ConflictError('the task changed while the execution was being started; retry');
    });
  }

  /**
   * Appends to `logs` in one audited UPDATE (`logs || $entries`): concurrent appends from several
   * agents all land, none overwrites another, and nothing is read first. With an idempotency key,
   * a retried append does not append twice.
   */
  async appendLog(
    scope: RequestScope,
    id: string,
    entries: unknown[],
    idempotency?: IdempotencyRequest,
    leaseToken?: string | null,
  ): Promise<TaskExecution> {
    if (entries.length === 0 || entries.length > MAX_LOG_ENTRIES) {
      throw new BadInputError('entries', `give 1 to ${MAX_LOG_ENTRIES} entries, got ${entries.length}`);
    }
    const p = new Params();
    const statement = auditedStatement(scope, this.table, {
      kind: 'update',
      operation: 'appendExecutionLog',
      id: `${p.add(id)}::uuid`,
      set: [`logs = coalesce(o.logs, '[]'::jsonb) || ${p.json(entries)}`],
      // Audited as a count: the log itself may be long, and is in the row.
      changes: `jsonb_build_object('logs', jsonb_build_object('appended', ${p.add(entries.length)}::int))`,
      // a claimed run takes entries only from the holder of its current lease
      where: [
        `(o.lease_token_hash IS NULL OR (o.status = '${ExecutionStatus.RUNNING}' AND o.lease_token_hash = ${p.add(leaseToken ? leaseTokenHash(leaseToken) : null)}::text))`,
      ],
      params: p,
    });
    return this.idempotency.once(scope, idempotency, { id, entries }, async (query) => {
      const outcome = outcomeOf<TaskExecution>(await runWrite(query, statement));
      if (outcome.changed) return outcome.row;
      if (!outcome.current) throw new NotFoundError('execution', id);
      if (!leaseToken) throw leaseTokenRequired();
      throw leaseLost(id);
    });
  }

  /**
   * One conditional, audited UPDATE: two agents finishing the same run cannot both succeed. With an
   * idempotency key, a retry of a finish that committed gets its first answer instead of
   * BAD_USER_INPUT (already finished).
   */
  async finish(scope: RequestScope, input: FinishExecutionInput, idempotency?: IdempotencyRequest): Promise<TaskExecution> {
    const { idempotencyKey: _key, leaseToken, ...fields } = input;
    if (leaseToken && this.finishClaimed) return this.finishClaimed(scope, { ...fields, leaseToken }, idempotency);
    const p = new Params();
    const errorDetails = input.errorDetails == null ? 'NULL' : p.json(input.errorDetails);
    const statement = auditedStatement(scope, this.table, {
      kind: 'update',
      operation: 'finishExecution',
      id: `${p.add(input.id)}::uuid`,
      set: [`status = ${p.add(input.status)}::text`, `error_details = ${errorDetails}`, 'completed_at = now()'],
      where: [`o.status = ANY(${p.add(UNFINISHED)}::text[])`, 'o.lease_token_hash IS NULL'],
      params: p,
    });
    return this.idempotency.once(scope, idempotency, fields, async (query) => {
      const outcome = outcomeOf<TaskExecution>(await runWrite(query, statement));
      if (outcome.changed) return outcome.row;
      const { current, seen } = outcome;
      if (!current) throw new NotFoundError('execution', input.id);
      if (current.leaseTokenHash != null) throw leaseTokenRequired();
      const status = current.status.toUpperCase();
      if (seen && UNFINISHED.includes(seen.status)) {
        // it was open when the request arrived: another agent finished it meanwhile
        throw new ConflictError(`id: the execution was finished as ${status} by another writer meanwhile`, {
          field: 'id',
          currentStatus: status,
        });
      }
      throw new BadInputError('id', `the execution is already ${status}; only PENDING or RUNNING executions can finish`);
    });
  }
}
