import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Concurrent writers: a row version on tasks and integrations (optimistic concurrency through
 * `expectedVersion`), idempotency keys for create-like mutations (the unique key decides races),
 * and the SQL audit_diff function retired (the one diff is the expression built by
 * src/audit/audited-statement.ts).
 */
export class ConcurrentWrites1764701000000 implements MigrationInterface {
  name = 'ConcurrentWrites1764701000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE tasks ADD COLUMN version INTEGER NOT NULL DEFAULT 1`);
    await q.query(`ALTER TABLE external_integrations ADD COLUMN version INTEGER NOT NULL DEFAULT 1`);
    await q.query(`
      CREATE TABLE idempotency_keys (
        principal VARCHAR(300) NOT NULL,
        idempotency_key VARCHAR(255) NOT NULL,
        scope VARCHAR(255) NOT NULL,
        operation VARCHAR(100) NOT NULL,
        request_hash VARCHAR(64) NOT NULL,
        response JSONB,
        created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
        expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT idempotency_keys_pkey PRIMARY KEY (principal, idempotency_key, scope)
      )`);
    await q.query(`CREATE INDEX idx_idempotency_keys_expires_at ON idempotency_keys(expires_at)`);
    await q.query(`DROP FUNCTION IF EXISTS audit_diff(jsonb, jsonb, text[])`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION audit_diff(old_row jsonb, new_row jsonb, secret text[]) RETURNS jsonb
      LANGUAGE sql IMMUTABLE AS $fn$
        SELECT coalesce(jsonb_object_agg(k, jsonb_build_object(
                 'before', CASE WHEN k = ANY(secret) AND coalesce(old_row->k, 'null') <> 'null' THEN '"[secret]"'::jsonb ELSE coalesce(old_row->k, 'null') END,
                 'after',  CASE WHEN k = ANY(secret) AND coalesce(new_row->k, 'null') <> 'null' THEN '"[secret]"'::jsonb ELSE coalesce(new_row->k, 'null') END)), '{}')
        FROM (SELECT jsonb_object_keys(coalesce(old_row, '{}')) AS k UNION SELECT jsonb_object_keys(coalesce(new_row, '{}'))) AS keys
        WHERE coalesce(old_row->k, 'null') IS DISTINCT FROM coalesce(new_row->k, 'null')
      $fn$`);
    await q.query(`DROP TABLE idempotency_keys`);
    await q.query(`ALTER TABLE external_integrations DROP COLUMN version`);
    await q.query(`ALTER TABLE tasks DROP COLUMN version`);
  }
}
