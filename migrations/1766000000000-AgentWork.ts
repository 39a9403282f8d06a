import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The agent work protocol (src/queue/): a task's retry policy and attempt count, an execution's
 * lease (its expiry and the SHA-256 of its token, never the token), heartbeat and cancellation
 * request, and task dependencies. `idx_tasks_ready` serves claimTask's ORDER BY over pending
 * tasks; `uq_task_executions_one_success` makes a second SUCCEEDED execution of a task impossible.
 */
export class AgentWork1766000000000 implements MigrationInterface {
  name = 'AgentWork1766000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE tasks
        ADD COLUMN run_after TIMESTAMP WITH TIME ZONE,
        ADD COLUMN max_attempts INTEGER,
        ADD COLUMN timeout_seconds INTEGER,
        ADD COLUMN retry_backoff_min_seconds INTEGER,
        ADD COLUMN retry_backoff_max_seconds INTEGER,
        ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0,
        ADD COLUMN last_error JSONB,
        ADD CONSTRAINT tasks_max_attempts_check CHECK (max_attempts IS NULL OR max_attempts BETWEEN 1 AND 1000),
        ADD CONSTRAINT tasks_timeout_seconds_check CHECK (timeout_seconds IS NULL OR timeout_seconds BETWEEN 1 AND 86400),
        ADD CONSTRAINT tasks_retry_backoff_check CHECK (
          (retry_backoff_min_seconds IS NULL OR retry_backoff_min_seconds >= 0) AND
          (retry_backoff_max_seconds IS NULL OR retry_backoff_max_seconds >= 0) AND
          (retry_backoff_min_seconds IS NULL OR retry_backoff_max_seconds IS NULL OR retry_backoff_min_seconds <= retry_backoff_max_seconds)),
        ADD CONSTRAINT tasks_attempts_check CHECK (attempts >= 0)`);
    await q.query(`CREATE INDEX idx_tasks_ready ON tasks (priority DESC NULLS LAST, created_at) WHERE status = 'pending'`);
    await q.query(`
      ALTER TABLE task_executions
        ADD COLUMN attempt INTEGER,
        ADD COLUMN lease_expires_at TIMESTAMP WITH TIME ZONE,
        ADD COLUMN lease_token_hash VARCHAR(64),
        ADD COLUMN cancel_requested_at TIMESTAMP WITH TIME ZONE,
        ADD COLUMN heartbeat_at TIMESTAMP WITH TIME ZONE,
        ADD COLUMN progress JSONB,
        ADD CONSTRAINT task_executions_attempt_check CHECK (attempt IS NULL OR attempt >= 1)`);
    await q.query(`CREATE UNIQUE INDEX uq_task_executions_one_success ON task_executions (task_id) WHERE status = 'succeeded'`);
    await q.query(
      `CREATE INDEX idx_task_executions_lease ON task_executions (lease_expires_at) WHERE status = 'running' AND lease_expires_at IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE task_dependencies (
        task_id UUID NOT NULL,
        depends_on_task_id UUID NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT task_dependencies_pkey PRIMARY KEY (task_id, depends_on_task_id),
        CONSTRAINT task_dependencies_task_id_fkey FOREIGN KEY (task_id) REFERENCES tasks(id) ON DELETE CASCADE,
        CONSTRAINT task_dependencies_depends_on_task_id_fkey FOREIGN KEY (depends_on_task_id) REFERENCES tasks(id) ON DELETE CASCADE,
        CONSTRAINT task_dependencies_not_self_check CHECK (task_id <> depends_on_task_id)
      )`);
    await q.query(`CREATE INDEX idx_task_dependencies_depends_on ON task_dependencies (depends_on_task_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE task_dependencies`);
    await q.query(`DROP INDEX idx_task_executions_lease`);
    await q.query(`DROP INDEX uq_task_executions_one_success`);
    await q.query(`
      ALTER TABLE task_executions
        DROP COLUMN attempt, DROP COLUMN lease_expires_at, DROP COLUMN lease_token_hash,
        DROP COLUMN cancel_requested_at, DROP COLUMN heartbeat_at, DROP COLUMN progress`);
    await q.query(`DROP INDEX idx_tasks_ready`);
    await q.query(`
      ALTER TABLE tasks
        DROP COLUMN run_after, DROP COLUMN max_attempts, DROP COLUMN timeout_seconds,
        DROP COLUMN retry_backoff_min_seconds, DROP COLUMN retry_backoff_max_seconds,
        DROP COLUMN attempts, DROP COLUMN last_error`);
  }
}
