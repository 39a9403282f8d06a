import { diffSql, fragment, type WrittenTable } from '../audit/audited-statement';
import type { RequestScope } from '../request';
import { ident, type Params } from '../db/sql';
import type { QueueConfig } from '../config';

const AUDIT_COLUMNS = 'occurred_at, actor_kind, actor_id, actor_name, actor_role, operation, entity, entity_id, changes, request_id';

/**
 * The audit rows of a write that changes two tables in one statement (claim, finish, reap), in the
 * audited-statement.ts form: one row per changed row, diffing `before` (a CTE of the locked rows,
 * joined on id; null for an insert) against `changed` (the RETURNING of the change). `written`: the
 * properties an update sets (the tables have no BEFORE triggers, so no other column can change): the
 * diff compares only those, the same rows as comparing every column, for less work per row.
 */
export function auditRowsSql(
  scope: RequestScope,
  table: WrittenTable,
  operation: string,
  p: Params,
  changed: string,
  before: string | null,
  written?: readonly string[],
): string {
  const { principal } = scope;
  const actor = [principal.kind, principal.id, principal.name, principal.role, operation, table.entity].map((v) => p.add(v)).join(', ');
  const join = before ? ` JOIN ${before} o ON o."id" = c."id"` : '';
  const diff = fragment(table, `diff ${before !== null} ${written?.join(',') ?? '*'}`, () => {
    if (!written) return diffSql(table, before ? 'o' : null, 'c');
    const unknown = written.filter((prop) => !table.info.has(prop));
    if (unknown.length > 0) throw new Error(`auditRowsSql: ${table.entity} has no ${unknown.join(', ')}`);
    const info = new Map([...table.info].filter(([prop]) => written.includes(prop)));
    return diffSql({ ...table, info }, before ? 'o' : null, 'c');
  });
  return `INSERT INTO audit_log (${AUDIT_COLUMNS})
    SELECT clock_timestamp(), ${actor}, d.id, d.changes, ${p.add(scope.requestId)}
    FROM (SELECT c."id"::text AS id, ${diff} AS changes FROM ${changed} c${join}) d
    WHERE d.changes <> '{}'::jsonb`;
}

/** `alias.column AS "property"` for the table's visible columns (the answer, in the API's names). */
export function outputSql(table: WrittenTable, alias: string): string {
  return fragment(table, `output ${alias}`, () =>
    [...table.columns]
      .filter(([prop]) => !table.hidden.includes(prop))
      .map(([prop, col]) => `${alias}.${ident(col)} AS ${ident(prop)}`)
      .join(', '),
  );
}

/**
 * The task's assignments after a failed attempt (`o`: the task as locked; its `attempts` is the
 * attempt that failed): CANCELLED when `cancelled` holds (cancelTask asked for it: no retry), FAILED
 * for good once maxAttempts is reached, else PENDING again after backoff(attempt) = min(max, min *
 * 2^(attempt-1)), scaled by a jitter of 0.5 to 1 (so gaps never shrink from one attempt to the next).
 */
export function retryAssignments(p: Params, q: QueueConfig, errorDetails: string, cancelled: string): string[] {
  const exhausted = `o.attempts >= coalesce(o.max_attempts, ${p.add(q.defaultMaxAttempts)}::int)`;
  const backoff = `least(coalesce(o.retry_backoff_max_seconds, ${p.add(q.backoffMaxSeconds)}::int),
    coalesce(o.retry_backoff_min_seconds, ${p.add(q.backoffMinSeconds)}::int) * power(2, greatest(o.attempts, 1) - 1)) * (0.5 + random() / 2)`;
  const ends = `(${cancelled}) OR ${exhausted}`;
  return [
    `status = CASE WHEN ${cancelled} THEN 'cancelled' WHEN ${exhausted} THEN 'failed' ELSE 'pending' END`,
    `run_after = CASE WHEN ${ends} THEN o.run_after ELSE now() + make_interval(secs => ${backoff}) END`,
    `completed_at = CASE WHEN ${ends} THEN now() ELSE o.completed_at END`,
    `last_error = ${errorDetails}`,
  ];
}

/** Whether the run that just ended (`exec_changed`, of task `o`) had cancellation requested: its task is cancelled, not retried. */
export const CANCEL_REQUESTED = `EXISTS (SELECT 1 FROM exec_changed c WHERE c.task_id = o.id AND c.cancel_requested_at IS NOT NULL)`;
