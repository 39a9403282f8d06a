import { randomUUID } from 'node:crypto';
import { auditedStatement } from '../src/audit/audited-statement';
import { systemPrincipal } from '../src/auth/principal';
import { createLogger } from '../src/logger';
import { startTestGateway, type TestGateway } from './support/gateway';

/** The one-statement form of the audit trail, for mutations written as a single SQL statement. */
let t: TestGateway;
const scope = { requestId: 'req-audited', logger: createLogger({ logLevel: 'error', isProduction: false }), principal: systemPrincipal('test') };
beforeAll(async () => {
  t = await startTestGateway();
});
afterAll(() => t.close());

const run = (spec: Parameters<typeof auditedStatement>[1]) => {
  const { sql, params } = auditedStatement(scope, spec);
  return t.gateway.dataSource.query(sql, params);
};
const auditOf = (entityId: string) => t.db.query(`SELECT * FROM audit_log WHERE entity_id = $1 ORDER BY occurred_at, id`, [entityId]);

describe('auditedStatement', () => {
  it('writes the audit row of an INSERT, UPDATE and DELETE in the same statement', async () => {
    const [created] = await run({
      sql: `INSERT INTO tasks (title, priority) VALUES ($1, $2) RETURNING id, title, priority, status`,
      params: ['one statement', 3],
      operation: 'createTask',
      entity: 'task',
      kind: 'create',
    });
    expect(created).toMatchObject({ title: 'one statement', priority: 3, status: 'pending' });
    let rows = await auditOf(created.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ operation: 'createTask', entity: 'task', actor_id: 'system:test', request_id: 'req-audited' });
    expect(rows[0].changes).toEqual({
      id: { before: null, after: created.id },
      title: { before: null, after: 'one statement' },
      priority: { before: null, after: 3 },
      status: { before: null, after: 'pending' },
    });

    const cols = `id, title, priority, status`;
    await run({
      sql: `UPDATE tasks SET priority = $2 WHERE id = $1 RETURNING ${cols}`,
      beforeSql: `SELECT ${cols} FROM tasks WHERE id = $1`,
      params: [created.id, 9],
      operation: 'updateTask',
      entity: 'task',
      kind: 'update',
    });
    rows = await auditOf(created.id);
    expect(rows[1].changes).toEqual({ priority: { before: 3, after: 9 } });

    // a statement that changes nothing leaves no audit row
    await run({
      sql: `UPDATE tasks SET priority = 1 WHERE id = $1 AND status = 'completed' RETURNING ${cols}`,
      beforeSql: `SELECT ${cols} FROM tasks WHERE id = $1`,
      params: [created.id],
      operation: 'updateTask',
      entity: 'task',
      kind: 'update',
    });
    expect(await auditOf(created.id)).toHaveLength(2);

    await run({ sql: `DELETE FROM tasks WHERE id = $1 RETURNING ${cols}`, params: [created.id], operation: 'deleteTask', entity: 'task', kind: 'delete' });
    rows = await auditOf(created.id);
    expect(rows[2].changes.title).toEqual({ before: 'one statement', after: null });
  });

  it('rolls back with a statement that fails', async () => {
    const before = await t.db.query('SELECT count(*)::int AS n FROM audit_log');
    await expect(
      run({ sql: `INSERT INTO tasks (title, parent_task_id) VALUES ('x', $1) RETURNING id`, params: [randomUUID()], operation: 'createTask', entity: 'task', kind: 'create' }),
    ).rejects.toThrow(/foreign key/);
    expect(await t.db.query('SELECT count(*)::int AS n FROM audit_log')).toEqual(before);
  });

  it('masks secret fields and can summarise a batch in one row', async () => {
    const [integration] = await run({
      sql: `INSERT INTO external_integrations (integration_type, integration_name, configuration) VALUES ('github', 'x', $1) RETURNING id, configuration, integration_name AS name`,
      params: [{ v: 1, ct: 'abc' }],
      operation: 'createIntegration',
      entity: 'external_integration',
      kind: 'create',
    });
    const [row] = await auditOf(integration.id);
    expect(row.changes.configuration).toEqual({ before: null, after: '[secret]' });

    const batch = await run({
      sql: `INSERT INTO system_metrics (metric_category, metric_name, metric_value) SELECT 'ci', 'n', v FROM unnest($1::numeric[]) v RETURNING id`,
      params: [[1, 2, 3]],
      operation: 'recordMetrics',
      entity: 'system_metric',
      kind: 'create',
      summarize: true,
    });
    expect(batch).toHaveLength(3);
    const summary = await t.db.query(`SELECT entity_id, changes FROM audit_log WHERE operation = 'recordMetrics'`);
    expect(summary).toEqual([{ entity_id: null, changes: { count: { before: null, after: 3 } } }]);
  });

  it('records a creation exactly as audit_diff(NULL, row, secrets) would (the inline form used for creates)', async () => {
    const [task] = await run({
      sql: `INSERT INTO tasks (title, description, priority, requirements, metadata) VALUES ($1, NULL, 0, $2, $3) RETURNING *, 'x'::text AS token`,
      params: ['diff twin', { nested: { a: [1, null] }, empty: {} }, {}],
      operation: 'createTask',
      entity: 'task',
      kind: 'create',
    });
    const [row] = await auditOf(task.id);
    const [{ expected }] = await t.db.query(
      `SELECT audit_diff(NULL, to_jsonb(t) || jsonb_build_object('token', 'x'), $2::text[]) AS expected FROM tasks t WHERE t.id = $1`,
      [task.id, ['configuration', 'tokenHash', 'token', 'password', 'secret']],
    );
    expect(row.changes).toEqual(expected);
    expect(row.changes.token).toEqual({ before: null, after: '[secret]' });
    expect(row.changes.description).toBeUndefined(); // null fields are not changes
    expect(row.changes.priority).toEqual({ before: null, after: 0 });
  });
});
