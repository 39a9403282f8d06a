/**
 * `npm run bench:seed [-- --tasks 20000 --subtask-percent 10 --executions 5 --integrations 20
 *   --metrics 500000 --metric-names 20 --days 30 --force]`
 *
 * Loads the deterministic benchmark data set into the configured database (DATABASE_URL or the DB_*
 * variables; with neither, the embedded PostgreSQL `npm start` uses), the way `npm run db:init`
 * opens it: the database is created if missing and the project's own migrations are applied first.
 * The four domain tables are emptied and refilled in one transaction, generated in SQL
 * (generate_series, md5 of the row number), so every run gives the same rows.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { dataSourceOptions } from '../src/db/data-source';
import { catalogue } from '../src/catalogue';
import { openDatabase } from '../src/db/database';
import { createLogger } from '../src/logger';
import { DEFAULT_SIZES, METRIC_NAMES, RESET_STATEMENT, seedStatements, type SeedSizes } from './data';

const USAGE = `usage: npm run bench:seed -- [--tasks N] [--subtask-percent P] [--executions N] [--integrations N]
                              [--metrics N] [--metric-names N] [--days N] [--force]
Defaults: --tasks ${DEFAULT_SIZES.tasks} --subtask-percent ${DEFAULT_SIZES.subtaskPercent} --executions ${DEFAULT_SIZES.executionsPerTask} --integrations ${DEFAULT_SIZES.integrations} --metrics ${DEFAULT_SIZES.metrics} --metric-names ${DEFAULT_SIZES.metricNames} --days ${DEFAULT_SIZES.days}
The database comes from DATABASE_URL / DB_* (as for npm start). Its tasks, executions, integrations and
metrics are replaced; a database whose name lacks "bench" and already holds tasks needs --force.`;

export class UsageError extends Error {}

function whole(raw: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag}: expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new UsageError(`--${flag}: expected ${min} to ${max}, got ${value}`);
  return value;
}

export function parseSeedArgs(argv: string[]): { sizes: SeedSizes; force: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      tasks: { type: 'string' },
      'subtask-percent': { type: 'string' },
      executions: { type: 'string' },
      integrations: { type: 'string' },
      metrics: { type: 'string' },
      'metric-names': { type: 'string' },
      days: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new UsageError('');
  const d = DEFAULT_SIZES;
  return {
    sizes: {
      tasks: whole(values.tasks, 'tasks', d.tasks, 1, 10_000_000),
      subtaskPercent: whole(values['subtask-percent'], 'subtask-percent', d.subtaskPercent, 0, 50),
      executionsPerTask: whole(values.executions, 'executions', d.executionsPerTask, 0, 1_000),
      integrations: whole(values.integrations, 'integrations', d.integrations, 0, 100_000),
      metrics: whole(values.metrics, 'metrics', d.metrics, 0, 100_000_000),
      metricNames: whole(values['metric-names'], 'metric-names', d.metricNames, 1, METRIC_NAMES.length),
      days: whole(values.days, 'days', d.days, 1, 3_650),
    },
    force: values.force ?? false,
  };
}

/** Creates the target database when missing, as `npm run db:init` does. */
async function ensureDatabase(config: ReturnType<typeof loadConfig>): Promise<string> {
  const options = dataSourceOptions(config.db, catalogue);
  const target = config.db.url ? new URL(config.db.url).pathname.slice(1) : config.db.name;
  if (config.db.embedded) return target;
  // A connection string's own database name would win over a separate `database` option.
  const adminUrl = config.db.url ? new URL(config.db.url) : undefined;
  if (adminUrl) adminUrl.pathname = '/postgres';
  const admin = new Client({
    ...(adminUrl
      ? { connectionString: adminUrl.toString() }
      : { host: config.db.host, port: config.db.port, user: config.db.user, password: config.db.password, database: 'postgres' }),
    ssl: options.ssl as never,
  });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [target]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE "${target.replace(/"/g, '""')}"`);
  } finally {
    await admin.end();
  }
  return target;
}

async function main(): Promise<void> {
  const { sizes, force } = parseSeedArgs(process.argv.slice(2));
  const config = loadConfig();
  // The seed's statements are slow on purpose: keep the slow-query warnings out of its report.
  const logger = createLogger({ ...config, logLevel: 'error' });
  const name = await ensureDatabase(config);
  const database = await openDatabase({ ...config.db, runMigrations: true }, catalogue, logger);
  try {
    const runner = database.dataSource.createQueryRunner();
    try {
      const [{ count }] = (await runner.query('SELECT count(*)::int AS count FROM tasks')) as { count: number }[];
      if (count > 0 && !/bench/i.test(name) && !force) {
        throw new UsageError(
          `database "${name}" already holds ${count} tasks and its name lacks "bench": pass --force to replace its data`,
        );
      }
      const started = Date.now();
      console.log(`seeding ${name}: ${JSON.stringify(sizes)}`);
      await runner.startTransaction();
      try {
        // Bulk statements on a busy machine outlast the gateway's DB_STATEMENT_TIMEOUT: not a fault here.
        await runner.query('SET LOCAL statement_timeout = 0');
        await runner.query(RESET_STATEMENT);
        for (const sql of seedStatements(sizes)) {
          const t0 = Date.now();
          const result = await runner.query(sql, undefined, true);
          const what = sql.trim().split(/\s+/).slice(0, 3).join(' ');
          console.log(`  ${what.padEnd(40)} ${String(result.affected ?? '').padStart(8)} rows  ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        }
        await runner.commitTransaction();
      } catch (error) {
        await runner.rollbackTransaction();
        throw error;
      }
      const counts = (await runner.query(`SELECT
        (SELECT count(*) FROM tasks)::int AS tasks,
        (SELECT count(*) FROM tasks WHERE parent_task_id IS NOT NULL)::int AS subtasks,
        (SELECT count(*) FROM task_executions)::int AS executions,
        (SELECT count(*) FROM external_integrations)::int AS integrations,
        (SELECT count(*) FROM system_metrics)::int AS metrics`)) as Record<string, number>[];
      console.log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(counts[0])}`);
    } finally {
      await runner.release();
    }
  } finally {
    await database.close();
  }
}

if (require.main === module) {
  main().catch((error) => {
    if (error instanceof UsageError) {
      console.error(error.message ? `bench:seed: ${error.message}\n\n${USAGE}` : USAGE);
      process.exit(error.message ? 2 : 0);
    }
    console.error('bench:seed failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
