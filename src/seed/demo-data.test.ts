import { TASK_TRANSITIONS } from '../tasks/task.status';
import { TaskStatus } from '../tasks/task.entity';
import { buildDemoData } from './demo-data';
import { DEMO_ID_PREFIX, DEMO_PENDING_TASK_ID, DEMO_TASK_ID, demoId } from './demo-ids';

const now = new Date('2026-03-04T12:34:56.789Z');
const data = buildDemoData(now);

describe('buildDemoData', () => {
  it('is a pure function of `now`', () => {
    expect(buildDemoData(new Date(now))).toEqual(data);
  });

  it('gives every row a distinct demo id', () => {
    const ids = [...data.tasks, ...data.executions, ...data.integrations, ...data.metrics].map((r) => r.id!);
    expect(new Set(ids).size).toBe(ids.length);
    expect(
      ids.every((id) => id.startsWith(DEMO_ID_PREFIX) && /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/.test(id)),
    ).toBe(true);
  });

  it('has tasks in every status, subtasks whose parents exist, and completedAt exactly on finished tasks', () => {
    expect(new Set(data.tasks.map((t) => t.status))).toEqual(new Set(Object.values(TaskStatus)));
    const ids = new Set(data.tasks.map((t) => t.id));
    const subtasks = data.tasks.filter((t) => t.parentTaskId);
    expect(subtasks.length).toBeGreaterThanOrEqual(5);
    expect(subtasks.every((t) => ids.has(t.parentTaskId!))).toBe(true);
    for (const t of data.tasks) {
      const finished = [TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED].includes(t.status!);
      expect([t.title, t.completedAt !== null]).toEqual([t.title, finished]);
      expect(t.createdAt!.getTime()).toBeLessThanOrEqual(now.getTime());
    }
    // The examples' tasks: one open with subtasks and runs, one PENDING that may start.
    expect(data.tasks.find((t) => t.id === DEMO_TASK_ID)?.status).toBe(TaskStatus.IN_PROGRESS);
    expect(TASK_TRANSITIONS[data.tasks.find((t) => t.id === DEMO_PENDING_TASK_ID)!.status!]).toContain(TaskStatus.IN_PROGRESS);
  });

  it('has executions with logs on existing tasks, and a day of metrics up to now', () => {
    const ids = new Set(data.tasks.map((t) => t.id));
    expect(data.executions.every((e) => ids.has(e.taskId!))).toBe(true);
    expect(data.logs.map((l) => l.executionId).sort()).toEqual(data.executions.map((e) => e.id).sort());
    expect(data.logs.every((l) => l.entries.length > 0)).toBe(true);
    const times = data.metrics.map((m) => m.timestamp!.getTime());
    expect(Math.max(...times)).toBeLessThanOrEqual(now.getTime());
    expect(Math.max(...times) - Math.min(...times)).toBe(24 * 3_600_000 - 60_000);
    expect(data.metrics.every((m) => Number.isFinite(m.value) && m.value! >= 0)).toBe(true);
  });
});

describe('demoId', () => {
  it('refuses row numbers it cannot encode', () => {
    expect(demoId('metric', 255)).toBe('de70de70-0004-4000-8000-0000000000ff');
    expect(() => demoId('task', 0)).toThrow(RangeError);
    expect(() => demoId('task', 1.5)).toThrow(RangeError);
  });
});
