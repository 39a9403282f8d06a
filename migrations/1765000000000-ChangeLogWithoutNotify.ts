import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * change_log_add without its pg_notify. PostgreSQL commits transactions that sent a NOTIFY one at a
 * time (the notification queue lock is held from pre-commit through the commit record), so every
 * write to tasks, task_executions and system_metrics queued behind every other, whoever made it.
 * Subscribers now read the change log on a short interval instead, and only while a gateway
 * has a live subscription (src/subscriptions/change-listener.ts).
 *
 * Unchanged: one change_log row per change, the transaction-scoped advisory lock that makes seq
 * order commit order (the subscribers' gap-free cursor: a reader that has seen seq N never misses
 * a row with seq <= N), SECURITY DEFINER and its search_path. CREATE OR REPLACE keeps the
 * function's owner and grants.
 */
export class ChangeLogWithoutNotify1765000000000 implements MigrationInterface {
  name = 'ChangeLogWithoutNotify1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION change_log_add(p_table text, p_id uuid, p_op text, p_task uuid, p_status text, p_metric text, p_log integer, p_old jsonb)
      RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('taskmaster_change_log'));
        INSERT INTO change_log (table_name, row_id, operation, task_id, status, metric_name, log_index, old_row)
        VALUES (p_table, p_id, p_op, p_task, p_status, p_metric, p_log, p_old);
      END $fn$`);
  }

  /** Back to ChangeLog1764900000000's function, NOTIFY included. */
  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION change_log_add(p_table text, p_id uuid, p_op text, p_task uuid, p_status text, p_metric text, p_log integer, p_old jsonb)
      RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
      DECLARE s bigint;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('taskmaster_change_log'));
        INSERT INTO change_log (table_name, row_id, operation, task_id, status, metric_name, log_index, old_row)
        VALUES (p_table, p_id, p_op, p_task, p_status, p_metric, p_log, p_old) RETURNING seq INTO s;
        PERFORM pg_notify('taskmaster_changes', json_build_object('seq', s, 'table', p_table, 'id', p_id, 'op', p_op)::text);
      END $fn$`);
  }
}
