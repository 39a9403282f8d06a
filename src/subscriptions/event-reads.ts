import type { DataSource } from 'typeorm';
import { query } from '../db/rows';
import { Params } from '../db/sql';
import { entrySql } from '../executions/log-entry.sql';
import type { JSONObject } from '../graphql/scalars';
import { taskFilterSql, type TaskFilter } from '../tasks/task.query';
import type { ChangeEvent } from './change-log';

/**
 * What subscriptions read for an event, in SQL (the resolvers hold none): their filters, evaluated on
 * the changed rows (a task filter is the `tasks` filter, a metric's `dimensions` a JSON containment),
 * and the log entries an event names.
 */

/** Refuses a bad filter's shape now (BAD_USER_INPUT), not at the first event. */
export function checkTaskFilter(filter: TaskFilter): void {
  taskFilterSql(filter, new Params());
}

/** Which of these tasks pass the filter: one statement for a replayed page. */
export async function tasksPassing(db: DataSource, ids: string[], filter: TaskFilter): Promise<Set<string>> {
  const p = new Params();
  const idList = p.add(ids);
  const where = taskFilterSql(filter, p);
  const rows = await query<{ id: string }>(db, `SELECT t.id FROM tasks t WHERE t.id = ANY(${idList}::uuid[]) AND ${where}`, p.values);
  return new Set(rows.map((r) => r.id));
}

/** Whether the event's task passes the filter: the row as it is, or as it was for a deletion. */
export async function taskEventPasses(db: DataSource, event: ChangeEvent, filter: TaskFilter): Promise<boolean> {
  const p = new Params();
  const source =
    event.operation === 'DELETE'
      ? `jsonb_populate_record(NULL::tasks, ${p.json(event.oldRow)})`
      : `(SELECT * FROM tasks WHERE id = ${p.add(event.rowId)}::uuid)`;
  const where = taskFilterSql(filter, p);
  const rows = await query(db, `SELECT 1 FROM ${source} t WHERE ${where}`, p.values);
  return rows.length > 0;
}

/** Whether the recorded sample's dimensions contain these. */
export async function sampleHasDimensions(db: DataSource, rowId: string, dimensions: JSONObject): Promise<boolean> {
  const rows = await query(db, `SELECT 1 FROM system_metrics WHERE id = $1::uuid AND dimensions @> $2::jsonb`, [
    rowId,
    JSON.stringify(dimensions),
  ]);
  return rows.length > 0;
}

/** Log entries of one execution by seq (a replayed page), in one statement. */
export async function logEntriesBySeq(db: DataSource, executionId: string, seqs: number[]): Promise<Map<number, unknown>> {
  const rows = await query<{ seq: number; entry: unknown }>(
    db,
    `SELECT l.seq, ${entrySql('l')} AS entry FROM execution_log_entries l WHERE l.execution_id = $1::uuid AND l.seq = ANY($2::int[])`,
    [executionId, seqs],
  );
  return new Map(rows.map((r) => [r.seq, r.entry]));
}

/** One log entry (null when it is gone). */
export async function logEntryAt(db: DataSource, executionId: string, seq: number): Promise<unknown> {
  const [row] = await query<{ entry: unknown }>(
    db,
    `SELECT ${entrySql('l')} AS entry FROM execution_log_entries l WHERE l.execution_id = $1::uuid AND l.seq = $2::int`,
    [executionId, seq],
  );
  return row?.entry ?? null;
}
