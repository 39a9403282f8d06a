import { TaskStatus } from './task.entity';
import { describeMoves, movesInto, refusedMove, TASK_TRANSITIONS, transition } from './task.status';

const ALL = Object.values(TaskStatus);
const now = new Date('2026-01-01T00:00:00Z');
const earlier = new Date('2025-12-31T00:00:00Z');

describe('task state machine', () => {
  it('allows exactly the moves of the task state machine', () => {
    expect(TASK_TRANSITIONS).toEqual({
      pending: ['in_progress', 'cancelled'],
      in_progress: ['completed', 'failed', 'cancelled', 'pending'],
      failed: ['pending', 'cancelled'],
      completed: [],
      cancelled: [],
    });
  });

  it.each(ALL.flatMap((from) => ALL.map((to) => [from, to] as const)))('%s -> %s', (from, to) => {
    if (TASK_TRANSITIONS[from].includes(to)) {
      const completedAt = transition(from, to, earlier, now);
      if (['completed', 'failed', 'cancelled'].includes(to)) expect(completedAt).toBe(now);
      else if (to === TaskStatus.PENDING) expect(completedAt).toBeNull();
      else expect(completedAt).toBe(earlier);
    } else {
      expect(() => transition(from, to, null, now)).toThrow(/cannot move to/);
    }
  });

  it('names the allowed moves in GraphQL spelling', () => {
    expect(() => transition(TaskStatus.PENDING, TaskStatus.COMPLETED, null, now)).toThrow(
      'status: a PENDING task cannot move to COMPLETED; allowed: IN_PROGRESS, CANCELLED',
    );
  });
});

describe('racing moves', () => {
  it('a move legal from the state the request found, refused because the row moved meanwhile, is a CONFLICT with the current state', () => {
    const error = refusedMove({ status: TaskStatus.CANCELLED, version: 3 }, { status: TaskStatus.PENDING }, TaskStatus.IN_PROGRESS);
    expect(error.code).toBe('CONFLICT');
    expect(error.details).toMatchObject({ currentStatus: 'CANCELLED', currentVersion: 3 });
  });

  it('a move illegal from the state the request found is BAD_USER_INPUT naming the allowed moves', () => {
    expect(refusedMove({ status: TaskStatus.COMPLETED, version: 3 }, { status: TaskStatus.COMPLETED }, TaskStatus.PENDING).code).toBe(
      'BAD_USER_INPUT',
    );
    // moved meanwhile, but the move was illegal from the old state too
    expect(refusedMove({ status: TaskStatus.CANCELLED, version: 3 }, { status: TaskStatus.COMPLETED }, TaskStatus.PENDING).code).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('describes the moves from the same table', () => {
    expect(describeMoves()).toBe(
      'PENDING → IN_PROGRESS | CANCELLED; IN_PROGRESS → COMPLETED | FAILED | CANCELLED | PENDING; FAILED → PENDING | CANCELLED',
    );
    expect(movesInto(TaskStatus.PENDING).sort()).toEqual(['failed', 'in_progress']);
  });
});
