/**
 * Every demo row has a fixed id of this shape, so `npm run db:seed` can find, refresh and tell apart
 * its own rows: `de70de70-000K-4000-8000-NNNNNNNNNNNN` (K: the table, N: the row number in hex).
 * A random UUID starts with `de70de70-` once in four billion.
 */
export const DEMO_ID_PREFIX = 'de70de70-';

const TABLE_DIGIT = { task: 1, execution: 2, integration: 3, metric: 4 } as const;
export type DemoTable = keyof typeof TABLE_DIGIT;

export function demoId(table: DemoTable, n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffffffff) throw new RangeError(`demo row number out of range: ${n}`);
  return `${DEMO_ID_PREFIX}000${TABLE_DIGIT[table]}-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** The demo task the examples open: in progress, with subtasks and executions. */
export const DEMO_TASK_ID = demoId('task', 1);
/** A pending demo task the status-change example moves. */
export const DEMO_PENDING_TASK_ID = demoId('task', 4);
/** The metric the chart example reads (one sample a minute over the last day). */
export const DEMO_LATENCY_METRIC = 'graphql.request.duration_ms';
