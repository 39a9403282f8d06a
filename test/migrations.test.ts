import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config';
import { dataSourceOptions } from '../src/db/data-source';
import { catalogue } from '../src/catalogue';
import { createTestDatabase, type TestDatabase } from './support/database';

/** What TypeORM would change to make the database match the entities: empty when they agree. */
async function drift(ds: DataSource): Promise<string[]> {
  const sql = await ds.driver.createSchemaBuilder().log();
  return sql.upQueries.map((q) => q.query);
}

const TABLES = [
  'api_tokens',
  'audit_log',
  'audit_log_archive',
  'change_log',
  'change_log_state',
  'execution_log_entries',
  'external_integrations',
  'idempotency_keys',
  'rate_limit_windows',
  'system_metric_rollups_1h',
  'system_metric_rollups_1m',
  'system_metrics',
  'task_dependencies',
  'task_executions',
  'tasks',
  'webhook_deliveries',
  'webhook_dispatch',
  'webhook_row_status',
  'webhooks',
];

async function userTables(db: TestDatabase): Promise<string[]> {
  const rows = await db.query(
    // Partitions (system_metrics' days) are part of their table.
    `SELECT t.tablename FROM pg_tables t JOIN pg_class c ON c.relname = t.tablename AND c.relnamespace = 'public'::regnamespace
     WHERE t.schemaname = 'public' AND t.tablename <> 'typeorm_migrations' AND NOT c.relispartition ORDER BY 1`,
  );
  return rows.map((r) => r.tablename);
}

describe('migrations', () => {
  let db: TestDatabase;
  let ds: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase();
    ds = new DataSource(dataSourceOptions(loadConfig({ DATABASE_URL: db.url }).db, catalogue));
    await ds.initialize();
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('apply to an empty database, revert to nothing, and apply again', async () => {
    expect(await userTables(db)).toEqual([]);
    await ds.runMigrations();
    expect(await userTables(db)).toEqual(TABLES);

    for (let i = 0; i < ds.migrations.length; i++) await ds.undoLastMigration();
    expect(await userTables(db)).toEqual([]);

    await ds.runMigrations();
    expect(await userTables(db)).toEqual(TABLES);
    expect(await ds.showMigrations()).toBe(false); // nothing pending
  });

  it('leave no difference between the entities and the database', async () => {
    expect(await drift(ds)).toEqual([]);
  });

  it('create the original design indexes, GIN ones included', async () => {
    const rows = await db.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'`);
    const defs = Object.fromEntries(rows.map((r) => [r.indexname, r.indexdef]));
    expect(defs.idx_tasks_status).toMatch(/btree \(status\)/);
    expect(defs.idx_tasks_priority).toMatch(/btree \(priority\)/);
    expect(defs.idx_tasks_assigned_to).toMatch(/btree \(assigned_to\)/);
    expect(defs.idx_tasks_created_at).toMatch(/btree \(created_at\)/);
    expect(defs.idx_tasks_status_priority).toMatch(/btree \(status, priority\)/);
    expect(defs.idx_tasks_assigned_status).toMatch(/btree \(assigned_to, status\)/);
    expect(defs.idx_tasks_requirements_gin).toMatch(/USING gin \(requirements\)/);
    expect(defs.idx_tasks_metadata_gin).toMatch(/USING gin \(metadata\)/);
    expect(defs.idx_tasks_parent_task_id).toMatch(/btree \(parent_task_id\)/);
    expect(defs.idx_task_executions_task_created).toMatch(/btree \(task_id, created_at\)/);
    expect(defs.idx_system_metrics_name_timestamp).toMatch(/btree \(metric_name, "timestamp"\)/);
  });

  it('keep the original column definitions and the cascade from executions to tasks', async () => {
    const cols = await db.query(
      `SELECT table_name, column_name, data_type, character_maximum_length AS len, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name = ANY($1) ORDER BY table_name, ordinal_position`,
      [TABLES],
    );
    const col = (t: string, c: string) => cols.find((r) => r.table_name === t && r.column_name === c);
    expect(col('tasks', 'title')).toMatchObject({ data_type: 'character varying', len: 255, is_nullable: 'NO' });
    expect(col('tasks', 'status')).toMatchObject({ len: 50, is_nullable: 'NO', column_default: "'pending'::character varying" });
    expect(col('tasks', 'priority')).toMatchObject({ data_type: 'integer', is_nullable: 'YES', column_default: '0' });
    expect(col('tasks', 'requirements')).toMatchObject({ data_type: 'jsonb', column_default: "'{}'::jsonb" });
    expect(col('tasks', 'acceptance_criteria')).toMatchObject({ data_type: 'jsonb', column_default: "'[]'::jsonb" });
    expect(col('tasks', 'id')).toMatchObject({ data_type: 'uuid', column_default: 'gen_random_uuid()' });
    expect(col('system_metrics', 'metric_value')).toMatchObject({ data_type: 'numeric', is_nullable: 'NO' });
    expect(col('external_integrations', 'configuration')).toMatchObject({ data_type: 'jsonb', is_nullable: 'NO' });
    expect(col('external_integrations', 'health_status')).toMatchObject({ len: 20, column_default: "'unknown'::character varying" });
    expect(col('task_executions', 'created_at')).toMatchObject({ data_type: 'timestamp with time zone' });

    const [fk] = await db.query(`SELECT confdeltype FROM pg_constraint WHERE conname = 'task_executions_task_id_fkey'`);
    expect(fk.confdeltype).toBe('c'); // ON DELETE CASCADE
  });

  it('would report drift if the database and the entities differed (the check can fail)', async () => {
    await db.query('ALTER TABLE tasks ALTER COLUMN title TYPE varchar(200)');
    await db.query('DROP INDEX idx_tasks_metadata_gin');
    try {
      const queries = await drift(ds);
      expect(queries.join('\n')).toMatch(/title/);
      expect(queries.join('\n')).toMatch(/idx_tasks_metadata_gin/);
    } finally {
      await db.query('ALTER TABLE tasks ALTER COLUMN title TYPE varchar(255)');
      await db.query('CREATE INDEX idx_tasks_metadata_gin ON tasks USING GIN(metadata)');
    }
    expect(await drift(ds)).toEqual([]);
  });
});
