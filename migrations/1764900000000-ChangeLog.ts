import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The change log that feeds GraphQL subscriptions (src/subscriptions/). Triggers on tasks,
 * task_executions and system_metrics add one row per change, whoever made it (the gateway, an agent
 * writing SQL, a CI tool), and NOTIFY `taskmaster_changes` with a small payload (seq, table, id,
 * op) that never carries row data. `seq` is the subscribers' cursor.
 *
 * Seq order is commit order: each trigger takes one transaction-scoped advisory lock before it
 * draws a seq, so a transaction that draws a later seq cannot commit before one that drew an earlier
 * one. A reader that has seen seq N therefore never misses a row with seq <= N. The price: writes to
 * these tables serialise between their first change and their commit (the gateway's writes are
 * single statements or short transactions).
 *
 * Rows per change:
 *   tasks            INSERT / UPDATE (when a column changed) / DELETE (keeping the row as it was, for filters)
 *   task_executions  INSERT / DELETE; UPDATE when a column other than logs changed; and one LOG row
 *                    per appended log entry, with its index (so each entry is delivered once, in order)
 *   system_metrics   INSERT / UPDATE (when a column changed) / DELETE
 * Old rows are deleted by the gateway after SUBSCRIPTION_REPLAY_HOURS; change_log_state.purged_through
 * is the highest seq deleted (a cursor below it is expired).
 */
export class ChangeLog1764900000000 implements MigrationInterface {
  name = 'ChangeLog1764900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE change_log (
        seq BIGSERIAL NOT NULL,
        occurred_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT clock_timestamp(),
        table_name VARCHAR(50) NOT NULL,
        row_id UUID NOT NULL,
        operation VARCHAR(10) NOT NULL,
        task_id UUID,
        status VARCHAR(50),
        metric_name VARCHAR(100),
        log_index INTEGER,
        old_row JSONB,
        CONSTRAINT change_log_pkey PRIMARY KEY (seq),
        CONSTRAINT change_log_operation_check CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE', 'LOG'))
      )`);
    await q.query(`CREATE INDEX idx_change_log_occurred_at ON change_log(occurred_at)`);
    await q.query(`
      CREATE TABLE change_log_state (
        id INTEGER NOT NULL,
        purged_through BIGINT NOT NULL DEFAULT 0,
        CONSTRAINT change_log_state_pkey PRIMARY KEY (id),
        CONSTRAINT change_log_state_one_row CHECK (id = 1)
      )`);
    await q.query(`INSERT INTO change_log_state (id, purged_through) VALUES (1, 0)`);

    // One row into change_log and its NOTIFY; the advisory lock makes seq order commit order. As its
    // owner (SECURITY DEFINER): a role that may write tasks but not change_log (an agent's own
    // login) still has its change logged.
    await q.query(`
      CREATE FUNCTION change_log_add(p_table text, p_id uuid, p_op text, p_task uuid, p_status text, p_metric text, p_log integer, p_old jsonb)
      RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
      DECLARE s bigint;
      BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('taskmaster_change_log'));
        INSERT INTO change_log (table_name, row_id, operation, task_id, status, metric_name, log_index, old_row)
        VALUES (p_table, p_id, p_op, p_task, p_status, p_metric, p_log, p_old) RETURNING seq INTO s;
        PERFORM pg_notify('taskmaster_changes', json_build_object('seq', s, 'table', p_table, 'id', p_id, 'op', p_op)::text);
      END $fn$`);

    await q.query(`
      CREATE FUNCTION change_log_tasks() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM change_log_add('tasks', OLD.id, 'DELETE', OLD.id, OLD.status, NULL, NULL, to_jsonb(OLD));
        ELSIF TG_OP = 'INSERT' OR to_jsonb(OLD) IS DISTINCT FROM to_jsonb(NEW) THEN
          PERFORM change_log_add('tasks', NEW.id, TG_OP, NEW.id, NEW.status, NULL, NULL, NULL);
        END IF;
        RETURN NULL;
      END $fn$`);
    await q.query(`
      CREATE FUNCTION change_log_task_executions() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE
        old_len integer;
        new_len integer;
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM change_log_add('task_executions', OLD.id, 'DELETE', OLD.task_id, OLD.status, NULL, NULL, to_jsonb(OLD));
          RETURN NULL;
        END IF;
        IF TG_OP = 'INSERT' OR (to_jsonb(OLD) - 'logs') IS DISTINCT FROM (to_jsonb(NEW) - 'logs') THEN
          PERFORM change_log_add('task_executions', NEW.id, TG_OP, NEW.task_id, NEW.status, NULL, NULL, NULL);
        END IF;
        old_len := CASE WHEN TG_OP = 'UPDATE' AND jsonb_typeof(OLD.logs) = 'array' THEN jsonb_array_length(OLD.logs) ELSE 0 END;
        new_len := CASE WHEN jsonb_typeof(NEW.logs) = 'array' THEN jsonb_array_length(NEW.logs) ELSE 0 END;
        FOR i IN old_len .. new_len - 1 LOOP
          PERFORM change_log_add('task_executions', NEW.id, 'LOG', NEW.task_id, NEW.status, NULL, i, NULL);
        END LOOP;
        RETURN NULL;
      END $fn$`);
    await q.query(`
      CREATE FUNCTION change_log_system_metrics() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM change_log_add('system_metrics', OLD.id, 'DELETE', NULL, NULL, OLD.metric_name, NULL, to_jsonb(OLD));
        ELSIF TG_OP = 'INSERT' OR to_jsonb(OLD) IS DISTINCT FROM to_jsonb(NEW) THEN
          PERFORM change_log_add('system_metrics', NEW.id, TG_OP, NULL, NULL, NEW.metric_name, NULL, NULL);
        END IF;
        RETURN NULL;
      END $fn$`);
    for (const table of ['tasks', 'task_executions', 'system_metrics']) {
      await q.query(
        `CREATE TRIGGER change_log_${table} AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION change_log_${table}()`,
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['tasks', 'task_executions', 'system_metrics']) {
      await q.query(`DROP TRIGGER change_log_${table} ON ${table}`);
      await q.query(`DROP FUNCTION change_log_${table}()`);
    }
    await q.query(`DROP FUNCTION change_log_add(text, uuid, text, uuid, text, text, integer, jsonb)`);
    await q.query(`DROP TABLE change_log_state`);
    await q.query(`DROP TABLE change_log`);
  }
}
