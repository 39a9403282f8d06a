import DataLoader from 'dataloader';
import type { ConnectionArgs } from '../graphql/connection';
import type { Connection } from '../db/reads/keyset';
import type { Context } from '../graphql/context';
import { byIdLoader, sortedFields } from '../graphql/loaders';
import type { ConnectionSelection } from '../graphql/selection';
import type { Task } from './task.entity';
import type { TaskFilter, TaskOrder } from './task.query';

/** Tasks by id reading only `fields` (every column when null): the parents of a page of tasks in one statement. */
export function taskByIdLoader(ctx: Context, fields: Iterable<string> | null): DataLoader<string, Task | null> {
  return byIdLoader(ctx.loaders, 'task', fields, (ids, cols) => ctx.services.tasks.findByIds(ids, cols));
}

/** A page of subtasks per parent id, every parent in one statement. */
export function subtasksLoader(
  ctx: Context,
  args: ConnectionArgs,
  filter: TaskFilter | null | undefined,
  orderBy: TaskOrder[] | null | undefined,
  selection: ConnectionSelection,
): DataLoader<string, Connection<Task>> {
  const fields = sortedFields(selection.nodeFields);
  const shape = { args, filter, orderBy, fields, total: selection.totalCount };
  return ctx.loaders.get(
    'task.subtasks',
    shape,
    () =>
      new DataLoader<string, Connection<Task>>((ids) =>
        ctx.services.tasks.subtaskPages(ids, { args, filter, orderBy, fields, withTotal: selection.totalCount }),
      ),
  );
}

/** After a task changed: forget every cached task answer of this request. */
export function clearTaskLoaders(ctx: Context): void {
  ctx.loaders.clear('task.');
}
