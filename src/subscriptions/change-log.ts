import { BadInputError } from '../errors';

/** One row of change_log (migration ChangeLog1764900000000), as the subscriptions see it. */
export interface ChangeEvent {
  seq: number;
  table: 'tasks' | 'task_executions' | 'system_metrics';
  rowId: string;
  operation: 'INSERT' | 'UPDATE' | 'DELETE' | 'LOG';
  /** tasks: the task itself; task_executions: its task. */
  taskId: string | null;
  status: string | null;
  metricName: string | null;
  /** LOG: the appended entry's seq in execution_log_entries (its position in the execution's log, from 0). */
  logIndex: number | null;
  /** DELETE: the row as it was (snake_case columns). */
  oldRow: Record<string, unknown> | null;
  occurredAt: Date;
  /** When this gateway received it (ms since epoch), for the delivery-latency histogram. */
  receivedAt?: number;
}

/** The columns of change_log read into a ChangeEvent. */
export const CHANGE_COLUMNS = `seq::text AS seq, table_name AS "table", row_id AS "rowId", operation, task_id AS "taskId", status,
  metric_name AS "metricName", log_index AS "logIndex", old_row AS "oldRow", occurred_at AS "occurredAt"`;

/**
 * Gives a seq to the committed change-log rows that have none, 10,000 at most (migration
 * ChangeLogWithoutLock1767300000000): run before reading `seq > N`, as its own statement (or read
 * through `change_log_read(after, limit)`, which runs it first). Null when another sequencer was
 * running (its rows are visible once it commits).
 */
export const SEQUENCE_CHANGES = `SELECT change_log_sequence()::text AS n`;

export function toChangeEvent(row: Record<string, unknown>): ChangeEvent {
  return { ...row, seq: Number(row.seq) } as ChangeEvent;
}

const CURSOR_PREFIX = 'chg:';

/** Opaque to clients: base64url of "chg:<seq>". */
export function encodeChangeCursor(seq: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${seq}`).toString('base64url');
}

export function decodeChangeCursor(cursor: string): number {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  // digits only: Number() would also take "", "1e5" or "0x10" (a forged cursor skipping events)
  const digits = text.startsWith(CURSOR_PREFIX) ? text.slice(CURSOR_PREFIX.length) : '';
  const seq = /^\d{1,16}$/.test(digits) ? Number(digits) : NaN;
  if (cursor.length > 64 || !Number.isSafeInteger(seq) || seq < 0) {
    throw new BadInputError('after', 'not a cursor given by this subscription: pass the `cursor` of an event you received');
  }
  return seq;
}

/** A cursor whose events were deleted (older than SUBSCRIPTION_REPLAY_HOURS). */
export function cursorExpired(replayHours: number): BadInputError {
  return new BadInputError(
    'after',
    `the cursor is older than the replay window (${replayHours} h): refetch the current state with a query, then subscribe again without \`after\``,
    { reason: 'CURSOR_EXPIRED' },
  );
}
