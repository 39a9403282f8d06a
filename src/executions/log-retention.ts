import type { DataSource } from 'typeorm';
import { query } from '../db/rows';
import type { Logger } from '../logger';

/** Rows one statement deletes: small enough that a batch holds its locks for milliseconds. */
export const LOG_RETENTION_BATCH = 5_000;
/** Between two passes of one instance; the first runs a minute after start-up. */
export const LOG_RETENTION_EVERY_MS = 3_600_000;
const FIRST_PASS_AFTER_MS = 60_000;
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
  db: DataSource,
  retentionDays: number,
  batchSize = LOG_RETENTION_BATCH,
): Promise<LogRetentionPass> {
  if (retentionDays <= 0) return { deleted: 0, ran: true };
  let deleted = 0;
  for (;;) {
    const [row] = await query<{ got: boolean; deleted: number }>(
      db,
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

/** Runs purgeExecutionLogs on this instance every LOG_RETENTION_EVERY_MS; answers its stop. */
export function scheduleLogRetention(db: DataSource, retentionDays: number, logger: Logger): () => Promise<void> {
  if (retentionDays <= 0) return async () => undefined;
  let running: Promise<void> | undefined;
  const pass = () => {
    if (running) return;
    running = purgeExecutionLogs(db, retentionDays)
      .then(({ deleted }) => {
        if (deleted > 0) logger.info('execution logs: deleted entries past retention', { deleted, retentionDays });
      })
      .catch((error: unknown) => {
        logger.warn('execution logs: retention pass failed; retrying next interval', { reason: String(error) });
      })
      .finally(() => (running = undefined));
  };
  const first = setTimeout(pass, FIRST_PASS_AFTER_MS);
  const timer = setInterval(pass, LOG_RETENTION_EVERY_MS);
  first.unref();
  timer.unref();
  return async () => {
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
