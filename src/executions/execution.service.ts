import type { GraphQLResolveInfo } from 'graphql';
import type { DataSource } from 'typeorm';
import { auditedStatement, insertedRows, outcomeOf, writtenTable, type WrittenTable } from '../audit/audited-statement';
import { runWrite } from '../db/writes';
import type { IdempotencyRequest, IdempotencyService } from '../idempotency/idempotency.service';
import type { RequestScope } from '../request';
import { BadInputError, ConflictError, NotFoundError } from '../errors';
import { type ConnectionArgs } from '../graphql/connection';
import { fetchPagesByParent, planPage, type Connection } from '../db/reads/keyset';
import { TableReads, type PageRequest, type RowSet } from '../graphql/reads';
import { entityColumns, query } from '../db/rows';
import { RowKey } from '../db/reads/row';
import { Params } from '../db/sql';
import { TaskStatus } from '../tasks/task.entity';
import { isFinal, statusName } from '../tasks/task.status';
import type { TaskService } from '../tasks/task.service';
import { ExecutionStatus, TaskExecution } from './execution.entity';
import type { FinishExecutionInput, StartExecutionInput } from './execution.inputs';
import { leaseLost, leaseTokenHash } from './lease';
import { entryColumnsSql, lastEntriesSql, logEntryFilterSql, type LogEntryArgs } from './log-entry.sql';
import { ExecutionLogEntry } from './log-entry.entity';
import {
  EXECUTION_NODE,
  EXECUTION_ORDERING,
  executionFilterSql,
  LOG_ENTRY_NODE,
  LOG_ENTRY_ORDERING,
  type ExecutionFilter,
} from './execution.query';

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
    private readonly defaultPageSize: number,
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

  /** A page of the log of each execution (level and since applied), in one statement (LATERAL). */
  async logEntryPages(
    ids: readonly string[],
    args: ConnectionArgs & LogEntryArgs,
    withTotal: boolean,
  ): Promise<Connection<ExecutionLogEntry>[]> {
    const params = new Params();
    const where = logEntryFilterSql(args, params);
    const plan = planPage(args, LOG_ENTRY_ORDERING, this.defaultPageSize);
    const select = entityColumns(this.db, ExecutionLogEntry).select(LOG_ENTRY_NODE.alias);
    return fetchPagesByParent<ExecutionLogEntry>(
      this.db,
      { from: LOG_ENTRY_NODE.from, select, where, params, ordering: LOG_ENTRY_ORDERING },
      'l.execution_id',
      ids,
      plan,
      withTotal,
    );
  }

  /** The deprecated `logs` of each execution: its last LOGS_FIELD_LIMIT entries as appended, in one statement. */
  async lastLogs(ids: readonly string[]): Promise<unknown[]> {
    const rows = await query<{ id: string; logs: unknown }>(
      this.db,
      `SELECT e.id::text AS id, (${lastEntriesSql('e')}) AS logs FROM unnest($1::uuid[]) AS e(id)`,
      [[...ids]],
    );
    const byId = new Map(rows.map((r) => [r.id, r.logs]));
    return ids.map((id) => byId.get(id) ?? []);
  }

  /** Executions by id with only the given fields read (every column without). */
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
    const rows = await query<TaskExecution & { [RowKey.parent]: string }>(
      this.db,
      `SELECT DISTINCT ON (e.task_id) e.task_id::text AS "${RowKey.parent}", ${this.reads.select(fields).join(', ')}
       FROM task_executions e WHERE e.task_id = ANY($1::uuid[])
       ORDER BY e.task_id, e.created_at DESC NULLS LAST, e.id DESC`,
      [[...taskIds]],
    );
    const byTask = new Map(rows.map(({ [RowKey.parent]: task, ...row }) => [task, row]));
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
   * Appends entries as rows of execution_log_entries, in one audited statement: it raises the
   * execution's log_count by the batch's size (locking that row, so appenders of one execution take
   * turns and appenders of others never wait) and inserts the entries with the seqs it freed, so seq
   * has no gaps and keeps the order of the calls; nothing is read first, and the cost of an append
   * does not grow with the log. With an idempotency key, a retried append does not append twice.
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
    const n = `${p.add(entries.length)}::int`;
    const statement = auditedStatement(scope, this.table, {
      kind: 'update',
      operation: 'appendExecutionLog',
      id: `${p.add(id)}::uuid`,
      set: [`log_count = o.log_count + ${n}`],
      with: `entries AS (
        INSERT INTO execution_log_entries (execution_id, seq, level, message, data)
        SELECT c."id", c."log_count" - ${n} + (x.n - 1)::int, ${entryColumnsSql('x.v')}
        FROM changed c CROSS JOIN LATERAL jsonb_array_elements(${p.json(entries)}) WITH ORDINALITY AS x(v, n))`,
      // Audited as a count and where it starts: the entries themselves are rows of their own.
      changes: `jsonb_build_object('logs', jsonb_build_object('appended', ${n}, 'firstSeq', o.log_count))`,
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
