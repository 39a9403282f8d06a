import DataLoader from 'dataloader';
import type { Connection, ConnectionArgs } from '../graphql/connection';
import type { Context } from '../graphql/context';
import type { ConnectionSelection } from '../graphql/selection';
import type { TaskExecution } from './execution.entity';
import type { ExecutionFilter } from './execution.query';

const sorted = (fields: Iterable<string>) => [...new Set(fields)].sort();

/** "The first N executions of each task": one LATERAL statement for all the tasks of a page. */
export function executionsOfTaskLoader(
  ctx: Context,
  args: ConnectionArgs,
  filter: ExecutionFilter | null | undefined,
  selection: ConnectionSelection,
): DataLoader<string, Connection<TaskExecution>> {
  const fields = sorted(selection.nodeFields);
  const shape = { args, filter, fields, total: selection.totalCount };
  return ctx.loaders.relations.get('execution.ofTask', shape, () =>
    new DataLoader<string, Connection<TaskExecution>>((ids) =>
      ctx.services.executions.pagesByTask(ids, { args, filter, fields, withTotal: selection.totalCount }),
    ),
  );
}

/** Executions by id reading only `fields` (no `logs` unless asked). */
export function executionByIdLoader(ctx: Context, fields: Iterable<string>): DataLoader<string, TaskExecution | null> {
  const cols = sorted(fields);
  return ctx.loaders.relations.get('execution.byId', cols, () =>
    new DataLoader<string, TaskExecution | null>(async (ids) => {
      const byId = new Map((await ctx.services.executions.findByIds(ids, cols)).map((e) => [e.id, e]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  );
}

export function latestExecutionLoader(ctx: Context, fields: Iterable<string>): DataLoader<string, TaskExecution | null> {
  const cols = sorted(fields);
  return ctx.loaders.relations.get('execution.latest', cols, () =>
    new DataLoader<string, TaskExecution | null>((ids) => ctx.services.executions.latestByTask(ids, cols)),
  );
}

export function executionCountLoader(ctx: Context): DataLoader<string, number> {
  return ctx.loaders.relations.get('execution.count', null, () => new DataLoader<string, number>((ids) => ctx.services.executions.countByTask(ids)));
}

/** After an execution changed: forget every cached execution answer of this request. */
export function clearExecutionLoaders(ctx: Context, id?: string): void {
  if (id) ctx.loaders.executionById.clear(id);
  ctx.loaders.relations.clear('execution.');
}
