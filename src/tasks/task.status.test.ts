import { TaskStatus } from './task.entity';
import { TASK_TRANSITIONS, transition } from './task.status';

const ALL = Object.values(TaskStatus);
const now = new Date('2026-01-01T00:00:00Z');
const earlier = new Date('2025-12-31T00:00:00Z');

describe('task state machine', () => {
  it('allows exactly the moves of DESIGN.md', () => {
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
      else if (to === 'pending') expect(completedAt).toBeNull();
      else expect(completedAt).toBe(earlier);
    } else {
      expect(() => transition(from, to, null, now)).toThrow(/cannot move to/);
    }
  });

  it('names the allowed moves in GraphQL spelling', () => {
    expect(() => transition(TaskStatus.PENDING, TaskStatus.COMPLETED, null, now)).toThrow('status: a PENDING task cannot move to COMPLETED; allowed: IN_PROGRESS, CANCELLED');
  });
});
