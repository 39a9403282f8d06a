import { randomUUID } from 'node:crypto';
import { auditedStatement, insertedRows, outcomeOf, writtenTable, type AuditedWrite } from '../src/audit/audited-statement';
import { systemPrincipal } from '../src/auth/principal';
import { ExternalIntegration } from '../src/integrations/integration.entity';
import { SystemMetric } from '../src/metrics/metric.entity';
import { Params } from '../src/db/sql';
import { createLogger } from '../src/logger';
import { Task } from '../src/tasks/task.entity';
import { startTestGateway, type TestGateway } from './support/gateway';

/** The one audited write path: a change and its audit row in one statement, the before-image from the locked row. */
let t: TestGateway;
const scope = {
  requestId: 'req-audited',
  logger: createLogger({ logLevel: 'error', isProduction: false }),
  principal: systemPrincipal('test'),
};
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

const run = (entity: 'task' | 'integration' | 'metric', write: (p: Params) => AuditedWrite) => {
  const ds = t.gateway.dataSource;
  const table =
    entity === 'task'
      ? writtenTable(ds, Task, 'task')
      : entity === 'integration'
        ? writtenTable(ds, ExternalIntegration, 'external_integration', { hidden: ['configuration'] })
        : writtenTable(ds, SystemMetric, 'system_metric');
  const { sql, params } = auditedStatement(scope, table, write(new Params()));
  return ds.query(sql, params);
};
const auditOf = (entityId: string) => t.db.query(`SELECT * FROM audit_log WHERE entity_id = $1 ORDER BY occurred_at, id`, [entityId]);

describe('auditedStatement', () => {
  it('writes the audit row of an INSERT, UPDATE and DELETE in the same statement', async () => {
    const [created] = insertedRows<Task>(
      await run('task', (p) => ({
        kind: 'insert',
        operation: 'createTask',
        insert: `INSERT INTO tasks AS w (title, priority) VALUES (${p.add('one statement')}, ${p.add(3)})`,
        params: p,
      })),
    );
    expect(created).toMatchObject({ title: 'one statement', priority: 3, status: 'pending', version: 1 });
    let rows = await auditOf(created.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ operation: 'createTask', entity: 'task', actor_id: 'system:test', request_id: 'req-audited' });
    expect(rows[0].changes).toMatchObject({
      id: { before: null, after: created.id },
      title: { before: null, after: 'one statement' },
      version: { before: null, after: 1 },
    });
    expect(rows[0].changes.description).toBeUndefined(); // null fields are not changes

    const updated = outcomeOf<Task>(
      await run('task', (p) => ({
        kind: 'update',
        operation: 'updateTask',
        id: `${p.add(created.id)}::uuid`,
        set: [`priority = ${p.add(9)}`],
        params: p,
      })),
    );
    expect(updated).toMatchObject({ changed: true, row: { priority: 9, version: 2 } });
    rows = await auditOf(created.id);
    expect(Object.keys(rows[1].changes).sort()).toEqual(['priority', 'updatedAt', 'version']);
    expect(rows[1].changes.priority).toEqual({ before: 3, after: 9 });
    expect(rows[1].changes.version).toEqual({ before: 1, after: 2 });

    // refused by its condition: no change, no audit row; the row as it is now comes back
    const refused = outcomeOf<Task>(
      await run('task', (p) => ({
        kind: 'update',
        operation: 'updateTask',
        id: `${p.add(created.id)}::uuid`,
        set: ['priority = 1'],
        where: [`o.status = 'completed'`],
        params: p,
      })),
    );
    expect(refused).toMatchObject({ changed: false, current: { priority: 9, version: 2 }, seen: { priority: 9, version: 2 } });
    // a stale version is refused the same way
    const stale = outcomeOf<Task>(
      await run('task', (p) => ({
        kind: 'update',
        operation: 'updateTask',
        id: `${p.add(created.id)}::uuid`,
        set: ['priority = 1'],
        expectedVersion: 1,
        params: p,
      })),
    );
    expect(stale).toMatchObject({ changed: false, current: { version: 2 } });
    expect(await auditOf(created.id)).toHaveLength(2);

    const deleted = outcomeOf<Task>(
      await run('task', (p) => ({ kind: 'delete', operation: 'deleteTask', id: `${p.add(created.id)}::uuid`, params: p })),
    );
    expect(deleted).toMatchObject({ changed: true, row: { id: created.id } });
    rows = await auditOf(created.id);
    expect(rows[2].changes.title).toEqual({ before: 'one statement', after: null });
    // a missing row: nothing at all
    expect(
      outcomeOf(await run('task', (p) => ({ kind: 'delete', operation: 'deleteTask', id: `${p.add(created.id)}::uuid`, params: p }))),
    ).toEqual({
      changed: false,
      current: null,
      seen: null,
    });
  });

  it('takes the before-image from the row it locks: a change that waited for another writer diffs against that writer’s row', async () => {
    const [task] = insertedRows<Task>(
      await run('task', (p) => ({
        kind: 'insert',
        operation: 'createTask',
        insert: `INSERT INTO tasks AS w (title) VALUES (${p.add('locked')})`,
        params: p,
      })),
    );
    const holder = await t.db.query(`SELECT 1`); // warm the test connection
    expect(holder).toHaveLength(1);
    // another writer holds the row, changes it, and commits while our statement waits
    await t.db.query('BEGIN');
    await t.db.query(`UPDATE tasks SET priority = 7, version = version + 1 WHERE id = $1`, [task.id]);
    const waiting = run('task', (p) => ({
      kind: 'update',
      operation: 'updateTask',
      id: `${p.add(task.id)}::uuid`,
      set: [`priority = ${p.add(8)}`],
      params: p,
    }));
    for (;;) {
      const [w] = await t.db.query(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      );
      if (w.n > 0) break;
    }
    await t.db.query('COMMIT');
    const outcome = outcomeOf<Task>(await waiting);
    expect(outcome).toMatchObject({ changed: true, row: { priority: 8, version: 3 } });
    const [, audit] = await auditOf(task.id);
    expect(audit.changes.priority).toEqual({ before: 7, after: 8 }); // not 0: the row as the other writer left it
    expect(audit.changes.version).toEqual({ before: 2, after: 3 });
  });

  it('rolls back with a statement that fails', async () => {
    const before = await t.db.query('SELECT count(*)::int AS n FROM audit_log');
    await expect(
      run('task', (p) => ({
        kind: 'insert',
        operation: 'createTask',
        insert: `INSERT INTO tasks AS w (title, parent_task_id) VALUES ('x', ${p.add(randomUUID())})`,
        params: p,
      })),
    ).rejects.toThrow(/foreign key/);
    expect(await t.db.query('SELECT count(*)::int AS n FROM audit_log')).toEqual(before);
  });

  it('masks secret fields, never returns hidden ones, and can summarise a batch in one row', async () => {
    const [integration] = insertedRows<Record<string, unknown>>(
      await run('integration', (p) => ({
        kind: 'insert',
        operation: 'createIntegration',
        insert: `INSERT INTO external_integrations AS w (integration_type, integration_name, configuration) VALUES ('github', 'x', ${p.json({ v: 1, ct: 'abc' })})`,
        params: p,
      })),
    );
    expect(integration).not.toHaveProperty('configuration');
    const [row] = await auditOf(integration.id as string);
    expect(row.changes.configuration).toEqual({ before: null, after: '[secret]' });

    const count = await run('metric', (p) => ({
      kind: 'insert',
      operation: 'recordMetrics',
      insert: `INSERT INTO system_metrics AS w (metric_category, metric_name, metric_value) SELECT 'ci', 'n', v FROM unnest(${p.add([1, 2, 3])}::numeric[]) v`,
      params: p,
      summarize: true,
      select: 'SELECT count(*)::int AS count FROM changed',
    }));
    expect(count).toEqual([{ count: 3 }]);
    const summary = await t.db.query(`SELECT entity_id, changes FROM audit_log WHERE operation = 'recordMetrics'`);
    expect(summary).toEqual([{ entity_id: null, changes: { count: { before: null, after: 3 } } }]);
  });

  it('lists a field when its JSON value changes, and only then: SQL NULL and JSON null are the same value', async () => {
    const update = (id: string, set: string[], operation = 'updateTask') =>
      run('task', (p) => ({ kind: 'update', operation, id: `${p.add(id)}::uuid`, set, params: p }));
    const [created] = insertedRows<Task>(
      await run('task', (p) => ({
        kind: 'insert',
        operation: 'createTask',
        insert: `INSERT INTO tasks AS w (title, metadata, description, requirements) VALUES (${p.add('diff')}, NULL, NULL, 'null'::jsonb)`,
        params: p,
      })),
    );
    const changes = async () => (await auditOf(created.id)).map((r: { changes: Record<string, unknown> }) => r.changes);
    let [first] = await changes();
    // neither SQL NULL nor JSON null is listed on creation
    expect(Object.keys(first)).not.toEqual(expect.arrayContaining(['metadata']));
    expect(first).not.toHaveProperty('description');
    expect(first).not.toHaveProperty('requirements');
    expect(first).not.toHaveProperty('completedAt');
    expect(first.acceptanceCriteria).toEqual({ before: null, after: [] });

    await update(created.id, [`metadata = 'null'::jsonb`, `requirements = NULL`, 'priority = o.priority']);
    await update(created.id, [`metadata = '{"a": [1, null]}'::jsonb`, `description = ''`, 'complexity_score = 7']);
    await update(created.id, [`metadata = '{"a": [1, null]}'::jsonb`, `description = NULL`]);
    const [, same, changed, back] = await changes();
    expect(Object.keys(same).sort()).toEqual(['updatedAt', 'version']);
    expect(Object.keys(changed).sort()).toEqual(['complexityScore', 'description', 'metadata', 'updatedAt', 'version']);
    expect(changed.metadata).toEqual({ before: null, after: { a: [1, null] } });
    expect(changed.description).toEqual({ before: null, after: '' });
    expect(changed.complexityScore).toEqual({ before: 5, after: 7 });
    expect(Object.keys(back).sort()).toEqual(['description', 'updatedAt', 'version']);
    expect(back.description).toEqual({ before: '', after: null });
    first = (await changes())[0];
    expect(first.title).toEqual({ before: null, after: 'diff' });
  });

  it('is the only diff: no audit_diff function is left in the database', async () => {
    expect(await t.db.query(`SELECT proname FROM pg_proc WHERE proname = 'audit_diff'`)).toEqual([]);
  });
});
