import { In, type DataSource } from 'typeorm';
import type { AuditService } from '../audit/audit.service';
import type { RequestScope } from '../request';
import { BadInputError, NotFoundError } from '../errors';
import { isFinal, statusName } from '../tasks/task.status';
import type { TaskService } from '../tasks/task.service';
import { ExecutionStatus, TaskExecution } from './execution.entity';
import type { FinishExecutionInput, StartExecutionInput } from './execution.inputs';

const UNFINISHED = [ExecutionStatus.PENDING, ExecutionStatus.RUNNING];

/** Execution rules: runs start on open tasks and finish exactly once. */
export class ExecutionService {
  constructor(
    private readonly db: DataSource,
    private readonly tasks: TaskService,
    private readonly audit: AuditService,
  ) {}

  findById(id: string): Promise<TaskExecution | null> {
    return this.db.getRepository(TaskExecution).findOneBy({ id });
  }

  findByIds(ids: readonly string[]): Promise<TaskExecution[]> {
    return this.db.getRepository(TaskExecution).findBy({ id: In([...ids]) });
  }

  list(first: number, taskId?: string): Promise<TaskExecution[]> {
    return this.db.getRepository(TaskExecution).find({
      where: taskId ? { taskId } : {},
      order: { createdAt: 'DESC', id: 'DESC' },
      take: first,
    });
  }

  async start(scope: RequestScope, input: StartExecutionInput): Promise<TaskExecution> {
    return this.db.transaction(async (tx) => {
      const status = await this.tasks.statusOf(tx, input.taskId, 'taskId');
      if (isFinal(status)) {
        throw new BadInputError('taskId', `the task is ${statusName(status)}; executions start only on open tasks`);
      }
      const repo = tx.getRepository(TaskExecution);
      const { identifiers } = await repo.insert(
        repo.create({ ...input, agentConfig: input.agentConfig ?? {}, status: ExecutionStatus.RUNNING, startedAt: new Date() }),
      );
      const execution = await repo.findOneByOrFail({ id: identifiers[0].id });
      await this.audit.record(tx, scope, { operation: 'startExecution', entity: 'task_execution', entityId: execution.id, before: null, after: execution });
      return execution;
    });
  }

  async finish(scope: RequestScope, input: FinishExecutionInput): Promise<TaskExecution> {
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(TaskExecution);
      // Locked, then one conditional UPDATE: two agents finishing the same run cannot both succeed.
      const before = await repo.findOne({ where: { id: input.id }, lock: { mode: 'pessimistic_write' } });
      if (!before) throw new NotFoundError('execution', input.id);
      const result = await repo
        .createQueryBuilder()
        .update()
        .set({ status: input.status, errorDetails: input.errorDetails ?? null, completedAt: () => 'now()' })
        .where('id = :id AND status IN (:...open)', { id: input.id, open: UNFINISHED })
        .execute();
      if (result.affected === 0) {
        throw new BadInputError('id', `the execution is already ${before.status.toUpperCase()}; only PENDING or RUNNING executions can finish`);
      }
      const execution = await repo.findOneByOrFail({ id: input.id });
      await this.audit.record(tx, scope, { operation: 'finishExecution', entity: 'task_execution', entityId: execution.id, before, after: execution });
      return execution;
    });
  }
}
