import { BadInputError, ConflictError, type DomainError } from '../errors';
import type { Params } from '../db/sql';
import { TaskStatus } from './task.entity';

/**
 * The task state machine (docs/api.md, "Writing"), the one definition: the GraphQL enum is `TaskStatus`, and the
 * TypeScript check, the SQL of a move and the mutation's description are all made from this table.
 * completed and cancelled are final.
 */
export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  [TaskStatus.PENDING]: [TaskStatus.IN_PROGRESS, TaskStatus.CANCELLED],
  [TaskStatus.IN_PROGRESS]: [TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.PENDING],
  [TaskStatus.FAILED]: [TaskStatus.PENDING, TaskStatus.CANCELLED],
  [TaskStatus.COMPLETED]: [],
  [TaskStatus.CANCELLED]: [],
};

/** Entering these sets completed_at; going back to pending clears it. */
const FINISHED = new Set([TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED]);

export function isFinal(status: TaskStatus): boolean {
  return TASK_TRANSITIONS[status].length === 0;
}

/** GraphQL spelling of a status, for messages (the enum's key, e.g. IN_PROGRESS). */
export function statusName(status: TaskStatus): string {
  return (Object.keys(TaskStatus) as (keyof typeof TaskStatus)[]).find((k) => TaskStatus[k] === status) ?? status;
}

/** "PENDING → IN_PROGRESS | CANCELLED; ..." for descriptions. */
export function describeMoves(): string {
  return (Object.entries(TASK_TRANSITIONS) as [TaskStatus, TaskStatus[]][])
    .filter(([, next]) => next.length > 0)
    .map(([from, next]) => `${statusName(from)} → ${next.map(statusName).join(' | ')}`)
    .join('; ');
}

/** The statuses from which a move to `to` is allowed. */
export function movesInto(to: TaskStatus): TaskStatus[] {
  return (Object.keys(TASK_TRANSITIONS) as TaskStatus[]).filter((s) => TASK_TRANSITIONS[s].includes(to));
}

/**
 * Checks a move and returns the new `completed_at`: set on entering completed, failed or cancelled,
 * cleared on going back to pending, otherwise unchanged.
 */
export function transition(from: TaskStatus, to: TaskStatus, completedAt: Date | null, now: Date): Date | null {
  const allowed = TASK_TRANSITIONS[from];
  if (!allowed.includes(to)) throw illegalMove(from, to);
  if (FINISHED.has(to)) return now;
  if (to === TaskStatus.PENDING) return null;
  return completedAt;
}

function illegalMove(from: TaskStatus, to: TaskStatus): BadInputError {
  const allowed = TASK_TRANSITIONS[from];
  const moves = allowed.length > 0 ? allowed.map(statusName).join(', ') : 'none (it is final)';
  return new BadInputError('status', `a ${statusName(from)} task cannot move to ${statusName(to)}; allowed: ${moves}`, {
    from: statusName(from),
    allowed: allowed.map(statusName),
  });
}

/**
 * The same rule in SQL, for an audited UPDATE over the locked row `o`: the assignments and the
 * condition of a move to `to` (staying in the current status is allowed and keeps completed_at).
 */
export function moveSql(p: Params, to: TaskStatus): { set: string[]; where: string } {
  const target = `${p.add(to)}::text`;
  const completedAt = FINISHED.has(to) ? 'now()' : to === TaskStatus.PENDING ? 'NULL' : 'o.completed_at';
  return {
    set: [`status = ${target}`, `completed_at = CASE WHEN o.status = ${target} THEN o.completed_at ELSE ${completedAt} END`],
    where: `(o.status = ${target} OR o.status = ANY(${p.add(movesInto(to))}::text[]))`,
  };
}

/**
 * Why a move to `to` was refused by the row now in `current`, given the row as the request found
 * it (`seen`, the statement's snapshot). If the move was legal from what the request found and a
 * concurrent writer moved the row meanwhile, the client lost a race: CONFLICT with the current
 * state. A move illegal from the state the row already had is BAD_USER_INPUT.
 */
export function refusedMove(
  current: { status: TaskStatus; version: number },
  seen: { status: TaskStatus } | null,
  to: TaskStatus,
): DomainError {
  const legalFromSeen =
    seen !== null && seen.status !== current.status && (seen.status === to || TASK_TRANSITIONS[seen.status].includes(to));
  if (legalFromSeen) {
    return new ConflictError(
      `status: the task moved from ${statusName(seen.status)} to ${statusName(current.status)} meanwhile, and a ${statusName(current.status)} task cannot move to ${statusName(to)}; re-read it and decide again`,
      { field: 'status', currentStatus: statusName(current.status), currentVersion: current.version },
    );
  }
  return illegalMove(current.status, to);
}
