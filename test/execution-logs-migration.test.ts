import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config';
import { dataSourceOptions } from '../src/db/data-source';
import { catalogue } from '../src/catalogue';
import { entrySql } from '../src/executions/log-entry.sql';
import { createTestDatabase, type TestDatabase } from './support/database';

const MINE = 'ExecutionLogEntries1767100000000';

/** ExecutionLogEntries1767100000000 on a database whose executions hold `logs` arrays: up, down, up. */
describe('the execution log migration', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const options = () => dataSourceOptions(loadConfig({ DATABASE_URL: db.url }).db, catalogue);
  beforeAll(async () => {
    db = await createTestDatabase();
    // the migrations up to this one: the later ones (MetricsPartitions, ChangeLogWithoutLock) stay out
    const all = catalogue.migrations as (new () => unknown)[];
    ds = new DataSource({ ...options(), migrations: all.slice(0, all.findIndex((m) => m.name === MINE) + 1) });
    await ds.initialize();
    await ds.runMigrations();
  });
  afterAll(async () => {
    if (ds.isInitialized) await ds.destroy();
    await db.drop();
  });

  const LOGS: unknown[][] = [
    ['plain', { at: '2026-03-01T10:00:00.000Z', level: 'info', message: 'started' }, { level: 'error', message: 'boom', code: 3 }],
    [
      { level: 'fatal', message: 'kept as given' },
      { message: { not: 'text' } },
      7,
      [1, 2],
      null,
      true,
      {},
      { at: 'not a time' },
      { at: '2026-13-45T99:99', message: 'no such time' },
    ],
    Array.from({ length: 250 }, (_, i) => `line ${i}`),
    [],
  ];

  const undoThisMigration = async () => {
    expect(ds.migrations[ds.migrations.length - 1].name).toBe(MINE);
    await ds.undoLastMigration();
  };

  const entries = async (id: string) =>
    (
      await db.query(
        `SELECT coalesce(jsonb_agg(${entrySql('l')} ORDER BY l.seq), '[]') AS logs FROM execution_log_entries l WHERE l.execution_id = $1`,
        [id],
      )
    )[0].logs;

  it('moves every array into rows, gives them back in down(), and moves them again', async () => {
    await undoThisMigration();
    const [task] = await db.query(`INSERT INTO tasks (title) VALUES ('with logs') RETURNING id`);
    const ids: string[] = [];
    for (const logs of LOGS) {
      const [row] = await db.query(
        `INSERT INTO task_executions (task_id, agent_type, status, logs, started_at) VALUES ($1, 'claude', 'running', $2::jsonb, '2026-03-01T09:00:00Z') RETURNING id`,
        [task.id, JSON.stringify(logs)],
      );
      ids.push(row.id);
    }
    const [nullLogs] = await db.query(
      `INSERT INTO task_executions (task_id, agent_type, status, logs) VALUES ($1, 'claude', 'pending', NULL) RETURNING id`,
      [task.id],
    );
    const [{ before }] = await db.query(`SELECT count(*)::int AS before FROM change_log`);

    await ds.runMigrations();
    for (const [i, id] of ids.entries()) expect(await entries(id)).toEqual(LOGS[i]);
    const counts = await db.query(`SELECT id, log_count FROM task_executions WHERE id = ANY($1::uuid[])`, [ids]);
    expect(Object.fromEntries(counts.map((c) => [c.id, c.log_count]))).toEqual(
      Object.fromEntries(ids.map((id, i) => [id, LOGS[i].length])),
    );
    const rows = await db.query(`SELECT seq, at, level, message, data FROM execution_log_entries WHERE execution_id = $1 ORDER BY seq`, [
      ids[0],
    ]);
    expect(rows).toEqual([
      { seq: 0, at: new Date('2026-03-01T09:00:00Z'), level: null, message: 'plain', data: null },
      { seq: 1, at: new Date('2026-03-01T10:00:00Z'), level: 'info', message: 'started', data: { at: '2026-03-01T10:00:00.000Z' } },
      { seq: 2, at: new Date('2026-03-01T09:00:00Z'), level: 'error', message: 'boom', data: { code: 3 } },
    ]);
    // Moving them is no change: no change-log rows (LOG or UPDATE) for it.
    const [{ after }] = await db.query(`SELECT count(*)::int AS after FROM change_log`);
    expect(after).toBe(before);
    const columns = await db.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'task_executions' AND column_name = 'logs'`,
    );
    expect(columns).toEqual([]);

    // An entry appended after the move comes back in down() too, and fires one LOG row (seq = its index).
    await db.query(
      `WITH c AS (UPDATE task_executions SET log_count = log_count + 1 WHERE id = $1 RETURNING log_count - 1 AS seq)
       INSERT INTO execution_log_entries (execution_id, seq, message) SELECT $1, seq, 'appended later' FROM c`,
      [ids[3]],
    );
    const logRows = await db.query(`SELECT log_index FROM change_log WHERE operation = 'LOG' AND row_id = $1`, [ids[3]]);
    expect(logRows).toEqual([{ log_index: 0 }]);

    await undoThisMigration();
    const restored = await db.query(`SELECT id, logs FROM task_executions WHERE task_id = $1`, [task.id]);
    const byId = Object.fromEntries(restored.map((r) => [r.id, r.logs]));
    expect(ids.map((id) => byId[id])).toEqual([LOGS[0], LOGS[1], LOGS[2], ['appended later']]);
    expect(byId[nullLogs.id]).toEqual([]); // NULL had no entries
    const tables = await db.query(`SELECT 1 FROM pg_tables WHERE tablename = 'execution_log_entries'`);
    expect(tables).toEqual([]);
    // the old trigger is back: an array append is one LOG row per element
    await db.query(`UPDATE task_executions SET logs = logs || '["old style"]' WHERE id = $1`, [ids[3]]);
    const oldStyle = await db.query(`SELECT log_index FROM change_log WHERE operation = 'LOG' AND row_id = $1 ORDER BY seq`, [ids[3]]);
    expect(oldStyle).toEqual([{ log_index: 0 }, { log_index: 1 }]);

    await ds.runMigrations();
    expect(await entries(ids[0])).toEqual(LOGS[0]);
    expect(await entries(ids[1])).toEqual(LOGS[1]);
    expect(await entries(ids[2])).toEqual(LOGS[2]);
    expect(await entries(ids[3])).toEqual(['appended later', 'old style']);
    // then every later migration, and the schema is what the entities say
    await ds.destroy();
    const full = new DataSource(options());
    await full.initialize();
    try {
      await full.runMigrations();
      expect(await entries(ids[3])).toEqual(['appended later', 'old style']);
      const drift = await full.driver.createSchemaBuilder().log();
      expect(drift.upQueries.map((q) => q.query)).toEqual([]);
    } finally {
      await full.destroy();
    }
  });
});
