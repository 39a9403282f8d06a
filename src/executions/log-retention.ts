import type { RetentionStore } from '../retention/retention.store';

/** Rows one statement deletes: small enough that a batch holds its locks for milliseconds. */
export const LOG_RETENTION_BATCH = 5_000;
/** The advisory lock a batch takes (transaction-scoped, without waiting): one instance at a time. */
export const LOG_RETENTION_LOCK = 'taskmaster-gateway:execution-log-retention';

export interface LogRetentionPass {
  /** Entries deleted. */
  deleted: number;
  /** False when another instance held the lock (this pass stopped there and left the rest to it). */
  ran: boolean;
}

/**
 * EXECUTION_LOG_RETENTION_DAYS: deletes the log entries of executions that finished (completedAt)
 * more than `retentionDays` ago, `batchSize` rows per statement until none is left; executions
 * still open, or finished within the window, keep theirs. Each batch is one statement that first
 * tries the advisory lock: while another instance runs a batch, this pass stops. The executions
 * keep their rows and log_count (how many entries there were). 0 days: nothing is deleted.
 */
export async function purgeExecutionLogs(
  db: { query(sql: string, params?: unknown[]): Promise<{ got: boolean; deleted: number }[]> },
  retentionDays: number,
  batchSize = LOG_RETENTION_BATCH,
): Promise<LogRetentionPass> {
  if (retentionDays <= 0) return { deleted: 0, ran: true };
  let deleted = 0;
  for (;;) {
    const [row] = await db.query(
      `WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(hashtext($1)) AS got),
        doomed AS (
          SELECT l.execution_id, l.seq FROM task_executions e
          CROSS JOIN LATERAL (SELECT g.execution_id, g.seq FROM execution_log_entries g WHERE g.execution_id = e.id ORDER BY g.seq LIMIT $3) l
          WHERE (SELECT got FROM lock) AND e.completed_at < now() - make_interval(days => $2::int)
          LIMIT $3),
        gone AS (DELETE FROM execution_log_entries d USING doomed WHERE d.execution_id = doomed.execution_id AND d.seq = doomed.seq RETURNING 1)
       SELECT (SELECT got FROM lock) AS got, (SELECT count(*) FROM gone)::int AS deleted`,
      [LOG_RETENTION_LOCK, retentionDays, batchSize],
    );
    if (!row.got) return { deleted, ran: false };
    deleted += row.deleted;
    if (row.deleted < batchSize) return { deleted, ran: true };
  }
}

/**
 * execution_log_entries as a store of the retention job (src/retention/): measured like the others
 * and, with EXECUTION_LOG_RETENTION_DAYS, purged at each of its runs.
 */
export function executionLogStore(retentionDays: number): RetentionStore {
  return {
    table: 'execution_log_entries',
    timeColumn: 'at',
    // `at` has no index (an entry is written once and read by its execution): the first entry of the
    // 100 earliest executions by created_at (index), each found through the primary key
    oldest: async (run) =>
      (
        await run<{ at: Date | null }>(
          `SELECT min(x.at) AS at FROM (
             SELECT l.at FROM task_executions e
             CROSS JOIN LATERAL (SELECT g.at FROM execution_log_entries g WHERE g.execution_id = e.id ORDER BY g.seq LIMIT 1) l
             ORDER BY e.created_at, e.id LIMIT 100) x`,
        )
      )[0].at,
    purge:
      retentionDays <= 0
        ? undefined
        : async (run) => {
            const pass = await purgeExecutionLogs({ query: (sql, params) => run(sql, params) }, retentionDays);
            return `${pass.deleted} execution log entr${pass.deleted === 1 ? 'y' : 'ies'} deleted${pass.ran ? '' : ' (another instance holds the lock)'}`;
          },
  };
}
