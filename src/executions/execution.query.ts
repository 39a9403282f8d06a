import { ArrayMaxSize, IsOptional } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { newestFirst, type Ordering } from '../db/reads/keyset';
import { DateTimeRange, inListSql, rangeSql } from '../graphql/filters';
import { UUIDScalar } from '../graphql/scalars';
import type { NodeSpec, PlannedRelations } from '../graphql/planner';
import type { Params } from '../db/sql';
import { ExecutionStatus, TaskExecution } from './execution.entity';
import { ExecutionLogEntry } from './log-entry.entity';
import { lastEntriesSql, logEntryFilterSql } from './log-entry.sql';

@InputType({ description: 'Which executions to return; the conditions given must all hold.' })
export class ExecutionFilter {
  @Field(() => [ExecutionStatus], { nullable: true, description: 'Any of these statuses.' })
  status?: ExecutionStatus[] | null;

  @Field(() => [String], { nullable: true, description: 'Run by any of these agents.' })
  @IsOptional()
  @ArrayMaxSize(100)
  agentType?: string[] | null;

  @Field(() => UUIDScalar, { nullable: true, description: 'Executions of this task (Query.executions only).' })
  taskId?: string | null;

  @Field(() => DateTimeRange, { nullable: true })
  createdAt?: DateTimeRange | null;

  @Field(() => DateTimeRange, { nullable: true })
  startedAt?: DateTimeRange | null;

  @Field(() => DateTimeRange, { nullable: true })
  completedAt?: DateTimeRange | null;
}

/** Executions list newest first, the id breaking ties. */
export const EXECUTION_ORDERING = newestFirst('execution', 'e', 'created_at');

export function executionFilterSql(f: ExecutionFilter | null | undefined, p: Params): string[] {
  if (!f) return [];
  const c: string[] = [];
  if (f.status != null) c.push(inListSql('e.status', f.status, p));
  if (f.agentType != null) c.push(inListSql('e.agent_type', f.agentType, p));
  if (f.taskId != null) c.push(`e.task_id = ${p.add(f.taskId)}::uuid`);
  if (f.createdAt) c.push(...rangeSql('e.created_at', f.createdAt, p, 'timestamptz'));
  if (f.startedAt) c.push(...rangeSql('e.started_at', f.startedAt, p, 'timestamptz'));
  if (f.completedAt) c.push(...rangeSql('e.completed_at', f.completedAt, p, 'timestamptz'));
  return c;
}

/** "The newest run of a task" (Task.latestExecution). */
export const LATEST_EXECUTION_ORDER = 'e.created_at DESC NULLS LAST, e.id DESC';

/** An execution's log entries in the order they were appended. */
export const LOG_ENTRY_ORDERING: Ordering = {
  signature: 'log:SEQ.ASC',
  keys: [{ sql: 'l.seq', direction: 'ASC', type: 'int', nullable: false }],
};

/** ExecutionLogEntry for the read planner: only ever a page below an execution. */
export const LOG_ENTRY_NODE: NodeSpec = {
  type: 'LogEntry',
  from: 'execution_log_entries l',
  alias: 'l',
  entity: ExecutionLogEntry,
  needs: {},
  relations: {},
};

/** TaskExecution for the read planner (src/graphql/planner.ts). */
export const EXECUTION_NODE: NodeSpec = {
  type: 'TaskExecution',
  from: 'task_executions e',
  alias: 'e',
  entity: TaskExecution,
  needs: { task: ['taskId'] },
  relations: {
    task: { kind: 'one', target: 'Task', on: (r) => `t.id = ${r}."taskId"` },
    logEntries: {
      kind: 'page',
      target: 'LogEntry',
      on: (r) => `l.execution_id = ${r}."id"`,
      query: (args, p) => ({ where: logEntryFilterSql(args, p), ordering: LOG_ENTRY_ORDERING }),
    },
    logs: { kind: 'value', sql: lastEntriesSql },
  },
};

interface ExecutionArgs {
  filter?: ExecutionFilter | null;
}

/** The fields this feature adds to Task (TaskExecutionsResolver), planned into the task's statement. */
export const TASK_EXECUTION_RELATIONS: PlannedRelations = {
  type: 'Task',
  relations: {
    executions: {
      kind: 'page',
      target: 'TaskExecution',
      on: (r) => `e.task_id = ${r}."id"`,
      query: (args, p) => ({ where: executionFilterSql((args as ExecutionArgs).filter, p), ordering: EXECUTION_ORDERING }),
    },
    latestExecution: {
      kind: 'first',
      target: 'TaskExecution',
      on: (r) => `e.task_id = ${r}."id"`,
      orderBy: () => LATEST_EXECUTION_ORDER,
    },
    executionCount: { kind: 'count', sql: (r) => `SELECT count(*)::int FROM task_executions e WHERE e.task_id = ${r}."id"` },
  },
};
