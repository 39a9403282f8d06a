import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from '../src/config';
import { dataSourceOptions } from '../src/db/data-source';
import { catalogue } from '../src/catalogue';
import { RetentionService } from '../src/retention/retention.service';
import { defaultStores } from '../src/retention/retention.store';
import { createTestDatabase } from './support/database';
import { startTestGateway, type TestGateway } from './support/gateway';

const MINE = 'MetricsPartitions1767200000000';
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined } as never;

/** Each row's full content, for comparing before and after a conversion. */
const FINGERPRINT = `SELECT count(*)::int AS n, md5(string_agg(id::text || metric_name || metric_value::text || dimensions::text || coalesce(timestamp::text, '-'), ',' ORDER BY id)) AS digest FROM system_metrics`;

describe('migration MetricsPartitions on a database holding samples', () => {
  it('converts the table without losing a row, builds the rollups, and converts back (up, down, up)', async () => {
    const db = await createTestDatabase();
    const options = dataSourceOptions(loadConfig({ DATABASE_URL: db.url }).db, catalogue);
    const all = catalogue.migrations as (new () => unknown)[];
    const mine = all.findIndex((m) => m.name === MINE);
    const before = new DataSource({ ...options, migrations: all.slice(0, mine) });
    const upTo = new DataSource({ ...options, migrations: all.slice(0, mine + 1) });
    try {
      await before.initialize();
      await before.runMigrations();
      await before.destroy();
      await db.query(`
        INSERT INTO system_metrics (metric_category, metric_name, metric_value, dimensions, timestamp)
        SELECT 'gateway', 'm' || (i % 3), (i % 1000) / 7.0, jsonb_build_object('host', 'h' || (i % 4)),
               timestamptz '2026-03-01 00:00:00+00' + i * interval '37 seconds'
        FROM generate_series(1, 30000) AS i`);
      await db.query(
        `INSERT INTO system_metrics (metric_category, metric_name, metric_value, timestamp) VALUES ('gateway', 'untimed', 1, NULL)`,
      );
      const original = (await db.query(FINGERPRINT))[0];
      const timed = (await db.query(`${FINGERPRINT} WHERE timestamp IS NOT NULL`))[0];

      await upTo.initialize();
      await upTo.runMigrations();
      expect((await db.query(`SELECT relkind FROM pg_class WHERE relname = 'system_metrics'`))[0].relkind).toBe('p');
      expect((await db.query(`${FINGERPRINT} WHERE metric_name <> 'untimed'`))[0]).toEqual(timed);
      expect(
        (await db.query(`SELECT count(*)::int AS n FROM system_metrics WHERE metric_name = 'untimed' AND timestamp IS NOT NULL`))[0].n,
      ).toBe(1);
      // Every day holding samples has its partition: nothing in the default one.
      expect((await db.query(`SELECT count(*)::int AS n FROM system_metrics_default`))[0].n).toBe(0);
      const days = await db.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'system_metrics'::regclass`);
      expect(days[0].n).toBeGreaterThan(13);
      // Per dimension set, and once over all of them (dims_key the nil UUID): each adds up to the raw rows.
      const [raw] = await db.query(`SELECT count(*)::int AS n, sum(metric_value)::text AS s FROM system_metrics`);
      for (const grain of ['1m', '1h']) {
        for (const which of [`<>`, `=`]) {
          const [r] = await db.query(
            `SELECT sum(count)::int AS n, sum(sum)::text AS s FROM system_metric_rollups_${grain} WHERE dims_key ${which} '00000000-0000-0000-0000-000000000000'`,
          );
          expect(r).toEqual(raw);
        }
      }

      await upTo.undoLastMigration();
      expect((await db.query(`SELECT relkind FROM pg_class WHERE relname = 'system_metrics'`))[0].relkind).toBe('r');
      expect((await db.query(`${FINGERPRINT} WHERE metric_name <> 'untimed'`))[0]).toEqual(timed);
      expect((await db.query(FINGERPRINT))[0].n).toBe(original.n);
      expect(await db.query(`SELECT to_regclass('system_metric_rollups_1h') AS t`)).toEqual([{ t: null }]);

      await upTo.runMigrations();
      expect((await db.query(`${FINGERPRINT} WHERE metric_name <> 'untimed'`))[0]).toEqual(timed);
    } finally {
      if (upTo.isInitialized) await upTo.destroy();
      await db.drop();
    }
  }, 120_000);
});

describe('metrics partitions and retention through a running gateway', () => {
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway();
  }, 60_000);
  afterAll(() => t.close());

  const retention = (env: Record<string, string> = {}) => {
    const config = loadConfig({ DATABASE_URL: t.db.url, ...env }).retention;
    return new RetentionService(t.gateway.dataSource, config, silent, defaultStores(config));
  };
  const record = (timestamp: string, value = 1) =>
    t.gql(`mutation($input: [MetricInput!]!) { recordMetrics(input: $input) { count } }`, {
      input: [{ category: 'test', name: 'probe', value, timestamp }],
    });

  it('has partitions from yesterday to a week ahead at start-up', async () => {
    const today = new Date();
    for (const offset of [-1, 0, 7]) {
      const day = new Date(today.getTime() + offset * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
      expect(await t.db.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [`system_metrics_p${day}`])).toEqual([{ ok: true }]);
    }
  });

  it('lands a sample for a day with no partition in the default partition, and moves it when its day is created', async () => {
    const res = await record('2031-05-05T10:00:00Z', 42);
    expect(res.body.errors).toBeUndefined();
    expect(await t.db.query(`SELECT metric_value::float8 AS v FROM system_metrics_default WHERE metric_name = 'probe'`)).toEqual([
      { v: 42 },
    ]);
    const events = (await t.db.query(`SELECT count(*)::int AS n FROM change_log WHERE table_name = 'system_metrics'`))[0].n;
    await t.db.query(`SELECT metrics_ensure_partitions('system_metrics', '2031-05-05', '2031-05-05')`);
    expect(await t.db.query(`SELECT metric_value::float8 AS v FROM system_metrics_p20310505`)).toEqual([{ v: 42 }]);
    expect(await t.db.query(`SELECT count(*)::int AS n FROM system_metrics_default`)).toEqual([{ n: 0 }]);
    // A move, not a change: no change-log event; and the rollups counted it once.
    expect((await t.db.query(`SELECT count(*)::int AS n FROM change_log WHERE table_name = 'system_metrics'`))[0].n).toBe(events);
    expect(await t.db.query(`SELECT count::int AS n FROM system_metric_rollups_1h WHERE metric_name = 'probe'`)).toEqual([
      { n: 1 },
      { n: 1 },
    ]);
    // Inserts through the API still write their change-log row.
    await record(new Date().toISOString(), 7);
    expect((await t.db.query(`SELECT count(*)::int AS n FROM change_log WHERE table_name = 'system_metrics'`))[0].n).toBe(events + 1);
  });

  it('drops only the partitions wholly past METRICS_RETENTION_DAYS, never the rest', async () => {
    const now = new Date('2031-05-20T12:00:00Z');
    await t.db.query(
      `SELECT metrics_ensure_partitions(t, '2031-05-08', '2031-05-12') FROM unnest(ARRAY['system_metrics', 'system_metric_rollups_1m', 'system_metric_rollups_1h']) AS t`,
    );
    for (const day of ['08', '09', '10', '11', '12']) expect((await record(`2031-05-${day}T23:59:59Z`)).body.errors).toBeUndefined();
    // 10 days before 2031-05-20T12:00 is 2031-05-10T12:00: days up to the 9th (today's too) are wholly past it.
    const partitions = await t.db.query(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'system_metrics'::regclass ORDER BY 1`,
    );
    const past = partitions.map((p) => p.name).filter((n) => /_p\d{8}$/.test(n) && n.slice(-8) < '20310510');
    expect(past).toEqual(expect.arrayContaining(['system_metrics_p20310505', 'system_metrics_p20310508', 'system_metrics_p20310509']));
    const run = await retention({ METRICS_RETENTION_DAYS: '10', ROLLUP_RETENTION_DAYS: '11' }).runOnce({ now });
    expect(run.ran).toBe(true);
    expect(run.purged.system_metrics).toBe(
      `${past.length} partition(s) dropped (${past.join(', ')}), 0 stray row(s) deleted from system_metrics_default`,
    );
    const left = await t.db.query(
      `SELECT to_char(timestamp, 'DD') AS day FROM system_metrics WHERE metric_name = 'probe' AND timestamp < '2031-06-01' ORDER BY 1`,
    );
    expect(left.map((r) => r.day)).toEqual(['10', '11', '12']);
    expect(run.purged.system_metric_rollups_1h).toMatch(/system_metric_rollups_1h_p20310508\)/); // 11 days: the 9th stays
    expect(await t.db.query(`SELECT to_regclass('system_metric_rollups_1h_p20310509') IS NOT NULL AS ok`)).toEqual([{ ok: true }]);
    // Partitions from the day before `now` to a week ahead are there afterwards.
    expect(await t.db.query(`SELECT to_regclass('system_metrics_p20310527') IS NOT NULL AS ok`)).toEqual([{ ok: true }]);
    // Nothing past the window was a DELETE on the day partitions: no change-log DELETE events.
    expect(
      await t.db.query(`SELECT count(*)::int AS n FROM change_log WHERE table_name = 'system_metrics' AND operation = 'DELETE'`),
    ).toEqual([{ n: 0 }]);
  });

  it('runs on one gateway at a time: skipped while another holds the lock', async () => {
    await t.db.query(`SELECT pg_advisory_lock(hashtext('taskmaster_retention'))`);
    try {
      expect(await retention().runOnce()).toEqual({ ran: false, created: 0, purged: {} });
    } finally {
      await t.db.query(`SELECT pg_advisory_unlock(hashtext('taskmaster_retention'))`);
    }
    expect((await retention().runOnce({ purge: false })).ran).toBe(true);
  });

  it('deletes audit rows past AUDIT_RETENTION_DAYS, archiving them when AUDIT_ARCHIVE is on', async () => {
    const [{ n: total }] = await t.db.query(`SELECT count(*)::int AS n FROM audit_log`);
    expect(total).toBeGreaterThan(2);
    await t.db.query(
      `UPDATE audit_log SET occurred_at = occurred_at - interval '400 days' WHERE id IN (SELECT id FROM audit_log ORDER BY occurred_at LIMIT 2)`,
    );
    expect((await retention({ AUDIT_RETENTION_DAYS: '0' }).runOnce()).purged.audit_log).toBeUndefined();
    const run = await retention({ AUDIT_RETENTION_DAYS: '365', AUDIT_ARCHIVE: 'true' }).runOnce();
    expect(run.purged.audit_log).toBe('2 audit row(s) moved to audit_log_archive');
    expect(await t.db.query(`SELECT count(*)::int AS n FROM audit_log`)).toEqual([{ n: total - 2 }]);
    const archived = await t.db.query(
      `SELECT entry->>'operation' AS op, occurred_at < now() - interval '399 days' AS old FROM audit_log_archive`,
    );
    expect(archived).toHaveLength(2);
    expect(archived.every((a) => a.old && typeof a.op === 'string')).toBe(true);
  });

  it('shows each store’s size and oldest row in poolHealth and /metrics', async () => {
    const res = await t.gql(`{ poolHealth { stores { store sizeBytes oldestAt } } }`);
    expect(res.body.errors).toBeUndefined();
    const stores = Object.fromEntries(res.body.data.poolHealth.stores.map((s: any) => [s.store, s]));
    expect(Object.keys(stores).sort()).toEqual([
      'audit_log',
      'change_log',
      'execution_log_entries',
      'system_metric_rollups_1h',
      'system_metric_rollups_1m',
      'system_metrics',
    ]);
    expect(stores.system_metrics.sizeBytes).toBeGreaterThan(8192);
    const [{ oldest }] = await t.db.query(`SELECT min(timestamp) AS oldest FROM system_metrics`);
    expect(new Date(stores.system_metrics.oldestAt).getTime()).toBe(oldest.getTime());
    // execution_log_entries has no index on `at`: its oldest is found through the earliest executions
    const [{ first }] = await t.db.query(`SELECT min(at) AS first FROM execution_log_entries`);
    expect(stores.execution_log_entries.oldestAt === null ? null : new Date(stores.execution_log_entries.oldestAt).getTime()).toBe(
      first === null ? null : first.getTime(),
    );
    const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
    expect(text).toMatch(/taskmaster_store_size_bytes\{store="system_metrics"\} \d+/);
    expect(text).toMatch(/taskmaster_store_oldest_row_age_seconds\{store="audit_log"\} [\d.]+/);
  });
});
