import { In, type DataSource, type EntityManager } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { RequestScope } from '../request';
import { BadInputError, ConflictError, NotFoundError } from '../errors';
import { Task, type TaskStatus } from './task.entity';
import type { CreateTaskInput, UpdateTaskInput } from './task.inputs';
import { transition } from './task.status';

/** Task rules: parent links, the status state machine, safe deletion. */
export class TaskService {
  constructor(
    private readonly db: DataSource,
    private readonly audit: AuditService,
  ) {}

  findById(id: string): Promise<Task | null> {
    return this.db.getRepository(Task).findOneBy({ id });
  }

  findByIds(ids: readonly string[]): Promise<Task[]> {
    return this.db.getRepository(Task).findBy({ id: In([...ids]) });
  }

  list(first: number): Promise<Task[]> {
    return this.db.getRepository(Task).find({ order: { createdAt: 'DESC', id: 'DESC' }, take: first });
  }

  async create(scope: RequestScope, input: CreateTaskInput): Promise<Task> {
    return this.db.transaction(async (tx) => {
      if (input.parentTaskId) await this.requireExists(tx, input.parentTaskId, 'parentTaskId');
      const repo = tx.getRepository(Task);
      const { identifiers } = await repo.insert(repo.create({ ...input }));
      const task = await repo.findOneByOrFail({ id: identifiers[0].id });
      await this.audit.record(tx, scope, { operation: 'createTask', entity: 'task', entityId: task.id, before: null, after: task });
      return task;
    });
  }

  async update(scope: RequestScope, input: UpdateTaskInput): Promise<Task> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(Task);
      // Locked so that two concurrent status moves cannot both pass the state machine.
      const task = await repo.findOne({ where: { id: input.id }, lock: { mode: 'pessimistic_write' } });
      if (!task) throw new NotFoundError('task', input.id);
      const { id, status, ...changes } = input;
      if (changes.parentTaskId) await this.checkParent(tx, id, changes.parentTaskId);
      const completedAt = status !== undefined && status !== task.status ? transition(task.status, status, task.completedAt, new Date()) : task.completedAt;
      await repo.update({ id }, { ...changes, ...(status !== undefined ? { status, completedAt } : {}) });
      const after = await repo.findOneByOrFail({ id });
      await this.audit.record(tx, scope, { operation: 'updateTask', entity: 'task', entityId: id, before: task, after });
      return after;
    });
  }

  async delete(scope: RequestScope, id: string): Promise<Task> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(Task);
      const task = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!task) throw new NotFoundError('task', id);
      const subtasks = await repo.countBy({ parentTaskId: id });
      if (subtasks > 0) {
        throw new ConflictError(`id: the task has ${subtasks} subtask(s); delete or move them first`, { field: 'id', subtasks });
      }
      await repo.delete({ id }); // its executions go with it (ON DELETE CASCADE)
      await this.audit.record(tx, scope, { operation: 'deleteTask', entity: 'task', entityId: id, before: task, after: null });
      return task;
    });
  }

  /** Finds the task's status without loading the row, for rules in other services. */
  async statusOf(tx: EntityManager, id: string, field: string): Promise<TaskStatus> {
    const task = await tx.getRepository(Task).findOne({ where: { id }, select: { id: true, status: true } });
    if (!task) throw new NotFoundError('task', id, field);
    return task.status;
  }

  private async requireExists(tx: EntityManager, id: string, field: string): Promise<void> {
    if (!(await tx.getRepository(Task).existsBy({ id }))) throw new BadInputError(field, `no task with id ${id}`);
  }

  /** A parent must exist and must not be the task itself or one of its descendants. */
  private async checkParent(tx: EntityManager, id: string, parentId: string): Promise<void> {
    await this.requireExists(tx, parentId, 'parentTaskId');
    const [{ cycle }] = await tx.query(
      `WITH RECURSIVE ancestors(id, parent_task_id) AS (
         SELECT id, parent_task_id FROM tasks WHERE id = $1
         UNION SELECT t.id, t.parent_task_id FROM tasks t JOIN ancestors a ON t.id = a.parent_task_id
       ) SELECT EXISTS (SELECT 1 FROM ancestors WHERE id = $2) AS cycle`,
      [parentId, id],
    );
    if (cycle) throw new BadInputError('parentTaskId', 'a task cannot be its own ancestor');
  }
}
