import type { DataSource } from 'typeorm';
import { query } from '../db/rows';
import { Params } from '../db/sql';
import { serializedWrite } from '../db/writes';
import { BadInputError, NotFoundError } from '../errors';
import type { RequestScope } from '../request';

const DEPENDENCY_LOCK = 'taskmaster_task_dependencies';
const AUDIT_COLUMNS = 'occurred_at, actor_kind, actor_id, actor_name, actor_role, operation, entity, entity_id, changes, request_id';

/**
 * Task dependencies: "task runs only after each of these is COMPLETED" (claimTask checks it). A
 * new edge must not close a cycle: additions take turns (an advisory lock), each checking the graph
 * as the one before left it. Each change is one audit row on the dependent task.
 */
export class DependencyService {
  constructor(private readonly db: DataSource) {}

  async add(scope: RequestScope, taskId: string, dependsOn: string[]): Promise<void> {
    const ids = [...new Set(dependsOn)];
    if (ids.length === 0 || ids.length > 100) throw new BadInputError('dependsOn', `give 1 to 100 task ids, got ${ids.length}`);
    if (ids.includes(taskId)) throw new BadInputError('dependsOn', `a task cannot depend on itself (${taskId})`);
    await serializedWrite(this.db, DEPENDENCY_LOCK, async (q) => {
      const found = await q(`SELECT id::text AS id FROM tasks WHERE id = ANY($1::uuid[])`, [[taskId, ...ids]]);
      const missing = [taskId, ...ids].filter((id) => !found.some((r) => r.id === id));
      if (missing.length > 0) throw new NotFoundError('task', missing[0]);
      // a path from one of the new prerequisites back to the task: the new edge would close it
      const [cycle] = await q(
        `WITH RECURSIVE reach(id, path) AS (
           SELECT d, ARRAY[$1::uuid, d] FROM unnest($2::uuid[]) d
           UNION ALL
           SELECT e.depends_on_task_id, r.path || e.depends_on_task_id FROM reach r
           JOIN task_dependencies e ON e.task_id = r.id
           WHERE r.id <> $1::uuid AND NOT e.depends_on_task_id = ANY(r.path[2:]))
         SELECT array_to_string(path, ' -> ') AS path FROM reach WHERE id = $1::uuid LIMIT 1`,
        [taskId, ids],
      );
      if (cycle) throw new BadInputError('dependsOn', `that would make a dependency cycle: ${String(cycle.path)}`);
      const p = new Params();
      const { principal } = scope;
      const actor = [principal.kind, principal.id, principal.name, principal.role, 'addTaskDependencies', 'task']
        .map((v) => p.add(v))
        .join(', ');
      await q(
        `WITH added AS (
           INSERT INTO task_dependencies (task_id, depends_on_task_id) SELECT ${p.add(taskId)}::uuid, d FROM unnest(${p.add(ids)}::uuid[]) d
           ON CONFLICT DO NOTHING RETURNING depends_on_task_id)
         INSERT INTO audit_log (${AUDIT_COLUMNS})
         SELECT clock_timestamp(), ${actor}, ${p.add(taskId)}, jsonb_build_object('dependsOn', jsonb_build_object('added', jsonb_agg(depends_on_task_id))), ${p.add(scope.requestId)}
         FROM added HAVING count(*) > 0`,
        p.values,
      );
    });
  }

  async remove(scope: RequestScope, taskId: string, dependsOnTaskId: string): Promise<boolean> {
    const p = new Params();
    const { principal } = scope;
    const actor = [principal.kind, principal.id, principal.name, principal.role, 'removeTaskDependency', 'task']
      .map((v) => p.add(v))
      .join(', ');
    const [row] = await query<{ removed: number }>(
      this.db,
      `WITH removed AS (
         DELETE FROM task_dependencies WHERE task_id = ${p.add(taskId)}::uuid AND depends_on_task_id = ${p.add(dependsOnTaskId)}::uuid RETURNING depends_on_task_id),
       audit_row AS (
         INSERT INTO audit_log (${AUDIT_COLUMNS})
         SELECT clock_timestamp(), ${actor}, ${p.add(taskId)}, jsonb_build_object('dependsOn', jsonb_build_object('removed', jsonb_agg(depends_on_task_id))), ${p.add(scope.requestId)}
         FROM removed HAVING count(*) > 0)
       SELECT count(*)::int AS removed FROM removed`,
      p.values,
    );
    return (row?.removed ?? 0) > 0;
  }
}
