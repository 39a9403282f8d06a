import DataLoader from 'dataloader';
import type { ConnectionArgs } from '../graphql/connection';
import type { Connection } from '../db/reads/keyset';
import type { Context } from '../graphql/context';
import { byIdLoader, sortedFields } from '../graphql/loaders';
import type { ConnectionSelection } from '../graphql/selection';
import type { TaskExecution } from './execution.entity';
import type { ExecutionFilter } from './execution.query';
import type { LogEntriesArgs } from './execution.inputs';
import type { ExecutionLogEntry } from './log-entry.entity';

/** "The first N executions of each task": one LATERAL statement for all the tasks of a page. */
export function executionsOfTaskLoader(
  ctx: Context,
  args: ConnectionArgs,
  filter: ExecutionFilter | null | undefined,
  selection: ConnectionSelection,
): DataLoader<string, Connection<TaskExecution>> {
  const fields = sortedFields(selection.nodeFields);
  const shape = { args, filter, fields, total: selection.totalCount };
  return ctx.loaders.get(
    'execution.ofTask',
    shape,
    () =>
      new DataLoader<string, Connection<TaskExecution>>((ids) =>
        ctx.services.executions.pagesByTask(ids, { args, filter, fields, withTotal: selection.totalCount }),
      ),
  );
}

/** "A page of the log of each execution": one LATERAL statement for all the executions of a page. */
export function logEntriesLoader(
  ctx: Context,
  args: LogEntriesArgs,
  selection: ConnectionSelection,
): DataLoader<string, Connection<ExecutionLogEntry>> {
  return ctx.loaders.get(
    'execution.logEntries',
    { args, total: selection.totalCount },
    () =>
      new DataLoader<string, Connection<ExecutionLogEntry>>((ids) =>
        ctx.services.executions.logEntryPages(ids, args, selection.totalCount),
      ),
  );
}

/** The deprecated `logs` of each execution (its last entries): one statement for all of them. */
export function lastLogsLoader(ctx: Context): DataLoader<string, unknown> {
  return ctx.loaders.get('execution.logs', null, () => new DataLoader<string, unknown>((ids) => ctx.services.executions.lastLogs(ids)));
}

/** Executions by id reading only `fields` (every column when null). */
export function executionByIdLoader(ctx: Context, fields: Iterable<string> | null): DataLoader<string, TaskExecution | null> {
  return byIdLoader(ctx.loaders, 'execution', fields, (ids, cols) => ctx.services.executions.findByIds(ids, cols));
}

export function latestExecutionLoader(ctx: Context, fields: Iterable<string>): DataLoader<string, TaskExecution | null> {
  const cols = sortedFields(fields);
  return ctx.loaders.get(
    'execution.latest',
    cols,
    () => new DataLoader<string, TaskExecution | null>((ids) => ctx.services.executions.latestByTask(ids, cols)),
  );
}

export function executionCountLoader(ctx: Context): DataLoader<string, number> {
  return ctx.loaders.get('execution.count', null, () => new DataLoader<string, number>((ids) => ctx.services.executions.countByTask(ids)));
}

/** After an execution changed: forget every cached execution answer of this request. */
export function clearExecutionLoaders(ctx: Context): void {
  ctx.loaders.clear('execution.');
}
