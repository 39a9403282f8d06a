import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Security: API tokens (hashes only), the audit trail, per-minute cost windows shared by every
 * gateway instance, and a masked hint of each integration's (now encrypted) credentials.
 * Existing plaintext configurations stay readable; `npm run secrets:rotate` encrypts them.
 */
export class Security1764500000000 implements MigrationInterface {
  name = 'Security1764500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_tokens (
        id UUID NOT NULL DEFAULT gen_random_uuid(),
        name VARCHAR(100) NOT NULL,
        role VARCHAR(20) NOT NULL,
        token_hash VARCHAR(64) NOT NULL,
        token_prefix VARCHAR(16) NOT NULL,
        created_by VARCHAR(255) NOT NULL,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        expires_at TIMESTAMP WITH TIME ZONE,
        last_used_at TIMESTAMP WITH TIME ZONE,
        revoked_at TIMESTAMP WITH TIME ZONE,
        CONSTRAINT api_tokens_pkey PRIMARY KEY (id)
      )`);
    await q.query(`CREATE UNIQUE INDEX idx_api_tokens_token_hash ON api_tokens(token_hash)`);

    await q.query(`
      CREATE TABLE audit_log (
        id UUID NOT NULL DEFAULT gen_random_uuid(),
        occurred_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        actor_kind VARCHAR(20) NOT NULL,
        actor_id VARCHAR(255) NOT NULL,
        actor_name VARCHAR(255) NOT NULL,
        actor_role VARCHAR(20) NOT NULL,
        operation VARCHAR(100) NOT NULL,
        entity VARCHAR(50) NOT NULL,
        entity_id VARCHAR(100),
        changes JSONB NOT NULL DEFAULT '{}',
        request_id VARCHAR(128),
        CONSTRAINT audit_log_pkey PRIMARY KEY (id)
      )`);
    await q.query(`CREATE INDEX idx_audit_log_occurred_at ON audit_log(occurred_at, id)`);
    await q.query(`CREATE INDEX idx_audit_log_entity ON audit_log(entity, entity_id)`);
    await q.query(`CREATE INDEX idx_audit_log_actor ON audit_log(actor_id)`);
    // The changed fields of a row as { field: { before, after } }, secrets masked: lets a
    // one-statement mutation write its audit row in the same statement (a data-modifying CTE).
    await q.query(`
      CREATE FUNCTION audit_diff(old_row jsonb, new_row jsonb, secret text[]) RETURNS jsonb
      LANGUAGE sql IMMUTABLE AS $fn$
        SELECT coalesce(jsonb_object_agg(k, jsonb_build_object(
                 'before', CASE WHEN k = ANY(secret) AND coalesce(old_row->k, 'null') <> 'null' THEN '"[secret]"'::jsonb ELSE coalesce(old_row->k, 'null') END,
                 'after',  CASE WHEN k = ANY(secret) AND coalesce(new_row->k, 'null') <> 'null' THEN '"[secret]"'::jsonb ELSE coalesce(new_row->k, 'null') END)), '{}')
        FROM (SELECT jsonb_object_keys(coalesce(old_row, '{}')) AS k UNION SELECT jsonb_object_keys(coalesce(new_row, '{}'))) AS keys
        WHERE coalesce(old_row->k, 'null') IS DISTINCT FROM coalesce(new_row->k, 'null')
      $fn$`);

    await q.query(`
      CREATE TABLE rate_limit_windows (
        budget_key VARCHAR(300) NOT NULL,
        window_start TIMESTAMP WITH TIME ZONE NOT NULL,
        spent INTEGER NOT NULL DEFAULT 0,
        CONSTRAINT rate_limit_windows_pkey PRIMARY KEY (budget_key, window_start)
      )`);
    await q.query(`CREATE INDEX idx_rate_limit_windows_start ON rate_limit_windows(window_start)`);

    await q.query(`ALTER TABLE external_integrations ADD COLUMN credentials_hint VARCHAR(255)`);
    await q.query(`ALTER TABLE external_integrations ADD COLUMN has_credentials BOOLEAN NOT NULL DEFAULT false`);
    await q.query(`UPDATE external_integrations SET has_credentials = (configuration <> '{}'::jsonb)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE external_integrations DROP COLUMN has_credentials`);
    await q.query(`ALTER TABLE external_integrations DROP COLUMN credentials_hint`);
    await q.query(`DROP TABLE rate_limit_windows`);
    await q.query(`DROP FUNCTION audit_diff(jsonb, jsonb, text[])`);
    await q.query(`DROP TABLE audit_log`);
    await q.query(`DROP TABLE api_tokens`);
  }
}
