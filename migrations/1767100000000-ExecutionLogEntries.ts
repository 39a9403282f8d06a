import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Execution logs as rows (src/executions/log-entry.entity.ts) instead of one JSONB array per
 * execution, which PostgreSQL rewrote whole on every append (`logs = logs || $entries`).
 *
 * `execution_log_entries (execution_id, seq, at, level, message, data)`: `seq` counts from 0 per
 * execution, without gaps: appenders take it from `task_executions.log_count` (the number of
 * entries appended so far), raised in the same statement that inserts the entries, so appenders of
 * one execution take turns on that row and appenders of different executions never wait for each
 * other. An entry as given (any JSON value) is stored split:
 *   a string                          -> message = it, data NULL
 *   an object                         -> message = its "message" if a string, level = its "level" if
 *                                        one of debug/info/warn/error, data = the rest of it
 *   anything else (number, array, ...) -> data = it
 * and put together again by `data || {message, level}` (see log-entry.sql.ts), exactly as given.
 * `at` is when it was appended; a moved entry takes its own "at" when that is a timestamp, else
 * its execution's start.
 *
 * The change log: LOG rows come from a statement trigger on the new table, with log_index = the
 * entry's seq (the position it had in the array, so cursors and indexes stay valid); the
 * task_executions trigger no longer looks at logs, and ignores log_count (an append is no UPDATE
 * event). down() puts every entry back into `logs` arrays (a NULL `logs` had no entries and comes
 * back as []).
 */
export class ExecutionLogEntries1767100000000 implements MigrationInterface {
  name = 'ExecutionLogEntries1767100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE execution_log_entries (
        execution_id UUID NOT NULL,
        seq INTEGER NOT NULL,
        at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT clock_timestamp(),
        level VARCHAR(10),
        message TEXT,
        data JSONB,
        CONSTRAINT execution_log_entries_pkey PRIMARY KEY (execution_id, seq),
        CONSTRAINT execution_log_entries_execution_id_fkey FOREIGN KEY (execution_id) REFERENCES task_executions(id) ON DELETE CASCADE,
        CONSTRAINT execution_log_entries_seq_check CHECK (seq >= 0),
        CONSTRAINT execution_log_entries_level_check CHECK ("level" IN ('debug', 'info', 'warn', 'error'))
      )`);
    await q.query(`
      ALTER TABLE task_executions
        ADD COLUMN log_count INTEGER NOT NULL DEFAULT 0,
        ADD CONSTRAINT task_executions_log_count_check CHECK (log_count >= 0)`);

    // The rows move without change-log rows (they are not new entries).
    await q.query(`ALTER TABLE task_executions DISABLE TRIGGER change_log_task_executions`);
    await q.query(`
      CREATE OR REPLACE FUNCTION pg_temp.log_entry_at(v jsonb, fallback timestamptz) RETURNS timestamptz LANGUAGE plpgsql AS $fn$
      BEGIN
        IF jsonb_typeof(v -> 'at') = 'string' AND v ->> 'at' ~ '^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}' THEN
          RETURN (v ->> 'at')::timestamptz;
        END IF;
        RETURN fallback;
      EXCEPTION WHEN others THEN
        RETURN fallback;
      END $fn$`);
    await q.query(`
      INSERT INTO execution_log_entries (execution_id, seq, at, level, message, data)
      SELECT e.id, (x.n - 1)::int, pg_temp.log_entry_at(x.v, coalesce(e.started_at, e.created_at, now())),
        ${levelOf('x.v')}, ${messageOf('x.v')}, ${dataOf('x.v')}
      FROM task_executions e
        CROSS JOIN LATERAL jsonb_array_elements(CASE jsonb_typeof(e.logs) WHEN 'array' THEN e.logs ELSE jsonb_build_array(e.logs) END)
          WITH ORDINALITY AS x(v, n)
      WHERE e.logs IS NOT NULL AND e.logs <> '[]'::jsonb`);
    await q.query(`DROP FUNCTION pg_temp.log_entry_at(jsonb, timestamptz)`);
    await q.query(`ALTER TABLE task_executions DROP COLUMN logs`);
    await q.query(`
      UPDATE task_executions e SET log_count = c.n
      FROM (SELECT execution_id, max(seq) + 1 AS n FROM execution_log_entries GROUP BY execution_id) c
      WHERE c.execution_id = e.id`);
    await q.query(`ALTER TABLE task_executions ENABLE TRIGGER change_log_task_executions`);

    await q.query(`
      CREATE OR REPLACE FUNCTION change_log_task_executions() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'DELETE' THEN
          PERFORM change_log_add('task_executions', OLD.id, 'DELETE', OLD.task_id, OLD.status, NULL, NULL, to_jsonb(OLD));
        ELSIF TG_OP = 'INSERT' OR (to_jsonb(OLD) - 'log_count') IS DISTINCT FROM (to_jsonb(NEW) - 'log_count') THEN
          PERFORM change_log_add('task_executions', NEW.id, TG_OP, NEW.task_id, NEW.status, NULL, NULL, NULL);
        END IF;
        RETURN NULL;
      END $fn$`);
    // One LOG row per entry, in seq order, whoever inserted it; the execution's task and status as now.
    await q.query(`
      CREATE FUNCTION change_log_execution_log_entries() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT a.execution_id, a.seq, e.task_id, e.status
                 FROM added a JOIN task_executions e ON e.id = a.execution_id ORDER BY a.execution_id, a.seq LOOP
          PERFORM change_log_add('task_executions', r.execution_id, 'LOG', r.task_id, r.status, NULL, r.seq, NULL);
        END LOOP;
        RETURN NULL;
      END $fn$`);
    await q.query(`
      CREATE TRIGGER change_log_execution_log_entries AFTER INSERT ON execution_log_entries
      REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION change_log_execution_log_entries()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER change_log_execution_log_entries ON execution_log_entries`);
    await q.query(`DROP FUNCTION change_log_execution_log_entries()`);
    // ChangeLog1764900000000's function: UPDATE rows ignore logs, one LOG row per array element added.
    await q.query(`
      CREATE OR REPLACE FUNCTION change_log_task_executions() RETURNS trigger LANGUAGE plpgsql AS $fn$
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
    await q.query(`ALTER TABLE task_executions DISABLE TRIGGER change_log_task_executions`);
    await q.query(`ALTER TABLE task_executions ADD COLUMN logs JSONB DEFAULT '[]'`);
    await q.query(`
      UPDATE task_executions e SET logs = coalesce(l.logs, '[]'::jsonb)
      FROM task_executions x
        LEFT JOIN LATERAL (SELECT jsonb_agg(${entryOf('g')} ORDER BY g.seq) AS logs FROM execution_log_entries g WHERE g.execution_id = x.id) l ON TRUE
      WHERE x.id = e.id`);
    await q.query(`ALTER TABLE task_executions ENABLE TRIGGER change_log_task_executions`);
    await q.query(`ALTER TABLE task_executions DROP CONSTRAINT task_executions_log_count_check, DROP COLUMN log_count`);
    await q.query(`DROP TABLE execution_log_entries`);
  }
}

// The split of an entry into columns and back, as of this migration (the gateway's own copy is
// src/executions/log-entry.sql.ts; this one stays as it is when that one changes).
const LEVELS = `('debug', 'info', 'warn', 'error')`;
const hasMessage = (v: string) => `jsonb_typeof(${v} -> 'message') = 'string'`;
const hasLevel = (v: string) => `(jsonb_typeof(${v} -> 'level') = 'string' AND ${v} ->> 'level' IN ${LEVELS})`;
const levelOf = (v: string) => `CASE WHEN ${hasLevel(v)} THEN ${v} ->> 'level' END`;
const messageOf = (v: string) =>
  `CASE WHEN jsonb_typeof(${v}) = 'string' THEN ${v} #>> '{}' WHEN ${hasMessage(v)} THEN ${v} ->> 'message' END`;
const dataOf = (v: string) =>
  `CASE jsonb_typeof(${v}) WHEN 'string' THEN NULL
     WHEN 'object' THEN ${v} - ARRAY[CASE WHEN ${hasMessage(v)} THEN 'message' END, CASE WHEN ${hasLevel(v)} THEN 'level' END]::text[]
     ELSE ${v} END`;
const entryOf = (l: string) =>
  `CASE WHEN ${l}.data IS NULL AND ${l}.level IS NULL THEN to_jsonb(${l}.message)
     WHEN ${l}.message IS NULL AND ${l}.level IS NULL THEN ${l}.data
     ELSE coalesce(${l}.data, '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('message', ${l}.message, 'level', ${l}.level)) END`;
