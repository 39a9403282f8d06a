import type { PlannedRelations } from '../graphql/planner';
import { TaskStatus } from '../tasks/task.entity';
import { taskPageQuery } from '../tasks/task.query';

/** The task connections of dependencies: Task.dependsOn, Task.dependents, Task.blockedBy. */
export type DependencyKind = 'dependsOn' | 'dependents' | 'blockedBy';

/** Not claimable while a dependency is in any other status (claimTask); blockedBy lists those. */
const UNBLOCKING = `'${TaskStatus.COMPLETED}'`;

/**
 * Each connection read through task_dependencies (`d`): the column naming the task asked about, the
 * one naming the tasks listed (`t`), and a condition on those.
 */
const LINKS: Record<DependencyKind, { parent: string; listed: string; where?: string }> = {
  dependsOn: { parent: 'task_id', listed: 'depends_on_task_id' },
  dependents: { parent: 'depends_on_task_id', listed: 'task_id' },
  blockedBy: { parent: 'task_id', listed: 'depends_on_task_id', where: `t.status <> ${UNBLOCKING}` },
};

/** For the loaders (a task not read by the planner): the join, the parent column and the condition. */
export function dependencyLink(kind: DependencyKind): { join: string; parentColumn: string; where?: string } {
  const l = LINKS[kind];
  return { join: `task_dependencies d ON d.${l.listed} = t.id`, parentColumn: `d.${l.parent}`, where: l.where };
}

function plannedLink(kind: DependencyKind): PlannedRelations['relations'][string] {
  const l = LINKS[kind];
  return {
    kind: 'page',
    target: 'Task',
    on: (r) => `t.id IN (SELECT d.${l.listed} FROM task_dependencies d WHERE d.${l.parent} = ${r}."id")${l.where ? ` AND ${l.where}` : ''}`,
    query: taskPageQuery,
  };
}

/** The connections this feature adds to Task (TaskDependencyResolver), planned into the task's statement. */
export const TASK_DEPENDENCY_RELATIONS: PlannedRelations = {
  type: 'Task',
  relations: { dependsOn: plannedLink('dependsOn'), dependents: plannedLink('dependents'), blockedBy: plannedLink('blockedBy') },
};
