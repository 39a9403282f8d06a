import DataLoader from 'dataloader';
import type { ConnectionArgs, Connection } from '../graphql/connection';
import type { Context } from '../graphql/context';
import type { ConnectionSelection } from '../graphql/selection';
import type { Task } from './task.entity';
import type { TaskFilter, TaskOrder } from './task.query';

const sorted = (fields: Iterable<string>) => [...new Set(fields)].sort();

/** Tasks by id reading only `fields`: the parents of a page of tasks in one statement. */
export function taskByIdLoader(ctx: Context, fields: Iterable<string>): DataLoader<string, Task | null> {
  const cols = sorted(fields);
  return ctx.loaders.relations.get('task.byId', cols, () =>
    new DataLoader<string, Task | null>(async (ids) => {
      const byId = new Map((await ctx.services.tasks.findByIds(ids, cols)).map((t) => [t.id, t]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  );
}

/** A page of subtasks per parent id, every parent in one statement. */
export function subtasksLoader(
  ctx: Context,
  args: ConnectionArgs,
  filter: TaskFilter | null | undefined,
  orderBy: TaskOrder[] | null | undefined,
  selection: ConnectionSelection,
): DataLoader<string, Connection<Task>> {
  const fields = sorted(selection.nodeFields);
  const shape = { args, filter, orderBy, fields, total: selection.totalCount };
  return ctx.loaders.relations.get('task.subtasks', shape, () =>
    new DataLoader<string, Connection<Task>>((ids) =>
      ctx.services.tasks.subtaskPages(ids, { args, filter, orderBy, fields, withTotal: selection.totalCount }),
    ),
  );
}

/** After a task changed: forget every cached task answer of this request. */
export function clearTaskLoaders(ctx: Context, id?: string): void {
  if (id) ctx.loaders.taskById.clear(id);
  else ctx.loaders.taskById.clearAll();
  ctx.loaders.relations.clear('task.');
}
