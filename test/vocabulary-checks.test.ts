import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config';
import { dataSourceOptions } from '../src/db/data-source';
import { catalogue } from '../src/catalogue';
import { ExecutionStatus } from '../src/executions/execution.entity';
import { IntegrationHealth, IntegrationStatus, IntegrationType } from '../src/integrations/integration.entity';
import { TaskStatus } from '../src/tasks/task.entity';
import { createTestDatabase, type TestDatabase } from './support/database';

/** The CHECK constraints on vocabulary columns, and the migration that refuses to add them over bad rows. */
describe('vocabulary CHECK constraints', () => {
  let db: TestDatabase;
  let ds: DataSource;
  beforeAll(async () => {
    db = await createTestDatabase();
    ds = new DataSource(dataSourceOptions(loadConfig({ DATABASE_URL: db.url }).db, catalogue));
    await ds.initialize();
    await ds.runMigrations();
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  const undoThroughVocabularyChecks = async () => {
    const names = ds.migrations.map((m) => m.name);
    const from = names.indexOf('VocabularyChecks1764700000000');
    for (let i = names.length - 1; i >= from; i--) await ds.undoLastMigration();
  };

  it('hold exactly the GraphQL enums’ values', async () => {
    const rows = await db.query(
      `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE contype = 'c' AND conname LIKE '%_check'`,
    );
    const def = (name: string) => rows.find((r) => r.conname === name)?.def as string;
    const expectValues = (name: string, values: Record<string, string>) => {
      const quoted = [...def(name).matchAll(/'([^']*)'/g)].map((m) => m[1]);
      expect(quoted.sort()).toEqual(Object.values(values).sort());
    };
    expectValues('tasks_status_check', TaskStatus);
    expectValues('task_executions_status_check', ExecutionStatus);
    expectValues('external_integrations_integration_type_check', IntegrationType);
    expectValues('external_integrations_status_check', IntegrationStatus);
    expectValues('external_integrations_health_status_check', IntegrationHealth);
  });

  it('refuse a value the API cannot represent, written straight to the database', async () => {
    const [task] = await db.query(`INSERT INTO tasks (title) VALUES ('direct') RETURNING id`);
    await expect(
      db.query(`INSERT INTO task_executions (task_id, agent_type, status) VALUES ($1, 'x', 'completed')`, [task.id]),
    ).rejects.toMatchObject({
      code: '23514',
      constraint: 'task_executions_status_check',
    });
    await expect(db.query(`UPDATE tasks SET status = 'done' WHERE id = $1`, [task.id])).rejects.toMatchObject({ code: '23514' });
    await expect(
      db.query(`INSERT INTO external_integrations (integration_type, integration_name, configuration) VALUES ('jira', 'x', '{}')`),
    ).rejects.toMatchObject({
      code: '23514',
    });
    // NULL stays allowed where the column is nullable
    await db.query(
      `INSERT INTO external_integrations (integration_type, integration_name, configuration, status, health_status) VALUES ('github', 'n', '{}', NULL, NULL)`,
    );
  });

  it('stop the migration over out-of-vocabulary rows, listing each value and count; after mapping them it applies; it reverts', async () => {
    await undoThroughVocabularyChecks();
    const [task] = await db.query(`INSERT INTO tasks (title, status) VALUES ('a', 'done'), ('b', 'done'), ('c', 'todo') RETURNING id`);
    await db.query(`INSERT INTO task_executions (task_id, agent_type, status) VALUES ($1, 'x', 'completed')`, [task.id]);

    const error: Error = await ds.runMigrations().then(
      () => new Error('the migration applied'),
      (e: Error) => e,
    );
    expect(error.message).toMatch(/VocabularyChecks stopped, nothing was changed/);
    expect(error.message).toContain(
      `tasks.status: 'done' (2 rows), 'todo' (1 row); allowed: pending, in_progress, completed, failed, cancelled`,
    );
    expect(error.message).toContain(`task_executions.status: 'completed' (1 row); allowed: pending, running, succeeded, failed, cancelled`);
    expect(error.message).toContain(`UPDATE tasks SET "status" = 'pending' WHERE "status" = 'done';`);
    expect(error.message).toContain('docs/operations.md "Vocabulary constraints"');
    // nothing changed: the rows are as they were, no constraint was added
    expect(await db.query(`SELECT status, count(*)::int AS n FROM tasks WHERE status IN ('done', 'todo') GROUP BY 1 ORDER BY 1`)).toEqual([
      { status: 'done', n: 2 },
      { status: 'todo', n: 1 },
    ]);
    expect(await db.query(`SELECT 1 FROM pg_constraint WHERE conname = 'tasks_status_check'`)).toEqual([]);

    await db.query(`UPDATE tasks SET status = 'completed' WHERE status = 'done'`);
    await db.query(`UPDATE tasks SET status = 'pending' WHERE status = 'todo'`);
    await db.query(`UPDATE task_executions SET status = 'succeeded' WHERE status = 'completed'`);
    await ds.runMigrations();
    expect(await ds.showMigrations()).toBe(false);
    expect((await ds.driver.createSchemaBuilder().log()).upQueries).toEqual([]); // db:check clean

    await undoThroughVocabularyChecks();
    expect(
      await db.query(
        `SELECT conname FROM pg_constraint WHERE contype = 'c' AND conrelid = ANY('{tasks,task_executions,external_integrations}'::regclass[])`,
      ),
    ).toEqual([]);
    await ds.runMigrations();
  });
});
