import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks (src/webhooks/): endpoints, their delivery queue and log, and the dispatcher's state.
 *
 * - `webhooks`: an endpoint. `secret` / `previous_secret` are sealed envelopes (src/secrets, as
 *   integration credentials), never returned; the previous one signs too until
 *   `previous_secret_expires_at` (rotation overlap). `last_seq` is the change-log seq of the last
 *   event delivered, the receiver's resume point. `lease_owner` / `lease_until`: the one instance
 *   sending to this endpoint now (taken with FOR UPDATE SKIP LOCKED, expires if that instance dies).
 * - `webhook_deliveries`: one row per event per endpoint (its body fixed when queued, so every retry
 *   sends the same bytes under the same webhook-id), updated on each attempt. Sent per endpoint in
 *   seq order; `idx_webhook_deliveries_open` finds an endpoint's head of line.
 * - `webhook_dispatch`: one row, the change-log seq up to which events were queued (the fan-out's
 *   durable cursor: it reads `change_log` `seq > last_seq` in seq order, so it never misses a row).
 * - `webhook_row_status`: the status of each task and execution as of that cursor, so an UPDATE in
 *   the change log can be told apart as a status change (change_log carries only the new status).
 *   Seeded here with the current rows; the cursor starts at the change log's head.
 */
export class Webhooks1767000000000 implements MigrationInterface {
  name = 'Webhooks1767000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhooks (
        id UUID NOT NULL DEFAULT gen_random_uuid(),
        url VARCHAR(2048) NOT NULL,
        description VARCHAR(500),
        events TEXT[] NOT NULL,
        filter JSONB,
        status VARCHAR(20) NOT NULL DEFAULT 'active',
        disabled_reason VARCHAR(20),
        disabled_at TIMESTAMP WITH TIME ZONE,
        secret JSONB NOT NULL,
        previous_secret JSONB,
        previous_secret_expires_at TIMESTAMP WITH TIME ZONE,
        last_seq BIGINT NOT NULL DEFAULT 0,
        lease_owner VARCHAR(100),
        lease_until TIMESTAMP WITH TIME ZONE,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        version INTEGER NOT NULL DEFAULT 1,
        CONSTRAINT webhooks_pkey PRIMARY KEY (id),
        CONSTRAINT webhooks_status_check CHECK ("status" IN ('active', 'disabled')),
        CONSTRAINT webhooks_disabled_reason_check CHECK ("disabled_reason" IN ('manual', 'gone', 'exhausted'))
      )`);
    await q.query(`
      CREATE TABLE webhook_deliveries (
        id UUID NOT NULL DEFAULT gen_random_uuid(),
        webhook_id UUID NOT NULL,
        seq BIGINT NOT NULL,
        message_id VARCHAR(64) NOT NULL,
        event_type VARCHAR(50) NOT NULL,
        body TEXT NOT NULL,
        status VARCHAR(20) NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        last_attempt_at TIMESTAMP WITH TIME ZONE,
        response_status INTEGER,
        response_body VARCHAR(1024),
        latency_ms INTEGER,
        error VARCHAR(200),
        occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        delivered_at TIMESTAMP WITH TIME ZONE,
        CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (id),
        CONSTRAINT webhook_deliveries_webhook_id_fkey FOREIGN KEY (webhook_id) REFERENCES webhooks(id) ON DELETE CASCADE,
        CONSTRAINT webhook_deliveries_status_check CHECK ("status" IN ('pending', 'retrying', 'succeeded', 'failed')),
        CONSTRAINT webhook_deliveries_attempts_check CHECK (attempts >= 0)
      )`);
    await q.query(`CREATE UNIQUE INDEX uq_webhook_deliveries_webhook_seq ON webhook_deliveries (webhook_id, seq)`);
    await q.query(
      `CREATE INDEX idx_webhook_deliveries_open ON webhook_deliveries (webhook_id, seq) WHERE status IN ('pending', 'retrying')`,
    );
    await q.query(`CREATE INDEX idx_webhook_deliveries_created_at ON webhook_deliveries (created_at)`);
    await q.query(`
      CREATE TABLE webhook_dispatch (
        id INTEGER NOT NULL,
        last_seq BIGINT NOT NULL,
        CONSTRAINT webhook_dispatch_pkey PRIMARY KEY (id),
        CONSTRAINT webhook_dispatch_one_row CHECK (id = 1)
      )`);
    await q.query(`INSERT INTO webhook_dispatch (id, last_seq) SELECT 1, coalesce(max(seq), 0) FROM change_log`);
    await q.query(`
      CREATE TABLE webhook_row_status (
        row_id UUID NOT NULL,
        status VARCHAR(50),
        CONSTRAINT webhook_row_status_pkey PRIMARY KEY (row_id)
      )`);
    await q.query(
      `INSERT INTO webhook_row_status (row_id, status) SELECT id, status FROM tasks UNION ALL SELECT id, status FROM task_executions`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_row_status`);
    await q.query(`DROP TABLE webhook_dispatch`);
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhooks`);
  }
}
