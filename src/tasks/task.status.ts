import { BadInputError } from '../errors';
import { TaskStatus } from './task.entity';

/** The task state machine (DESIGN.md). completed and cancelled are final. */
export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  [TaskStatus.PENDING]: [TaskStatus.IN_PROGRESS, TaskStatus.CANCELLED],
  [TaskStatus.IN_PROGRESS]: [TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.PENDING],
  [TaskStatus.FAILED]: [TaskStatus.PENDING, TaskStatus.CANCELLED],
  [TaskStatus.COMPLETED]: [],
  [TaskStatus.CANCELLED]: [],
};

const FINISHED = new Set([TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED]);

export function isFinal(status: TaskStatus): boolean {
  return TASK_TRANSITIONS[status].length === 0;
}

/** GraphQL spelling of a status, for messages (the enum's key, e.g. IN_PROGRESS). */
export function statusName(status: TaskStatus): string {
  return (Object.keys(TaskStatus) as (keyof typeof TaskStatus)[]).find((k) => TaskStatus[k] === status) ?? status;
}

/**
 * Checks a move and returns the new `completed_at`: set on entering completed, failed or cancelled,
 * cleared on going back to pending, otherwise unchanged.
 */
export function transition(from: TaskStatus, to: TaskStatus, completedAt: Date | null, now: Date): Date | null {
  const allowed = TASK_TRANSITIONS[from];
  if (!allowed.includes(to)) {
    const moves = allowed.length > 0 ? allowed.map(statusName).join(', ') : 'none (it is final)';
    throw new BadInputError('status', `a ${statusName(from)} task cannot move to ${statusName(to)}; allowed: ${moves}`, {
      from: statusName(from),
      allowed: allowed.map(statusName),
    });
  }
  if (FINISHED.has(to)) return now;
  if (to === TaskStatus.PENDING) return null;
  return completedAt;
}
