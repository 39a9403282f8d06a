import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { catalogue } from '../src/catalogue';
import { createTestDatabase, type TestDatabase } from './support/database';
import { TEST_SECRETS_KEYS } from './support/gateway';

/*
 * Every migrator we ship takes the same advisory lock (MigrationLockingDataSource): the gateway's
 * start-up, `npm run db:migrate`, and the TypeORM CLI on ormconfig.ts as CI runs it. Three at once
 * on an empty database all succeed, and each migration is applied once.
 */
const ROOT = join(__dirname, '..');
const cleanEnv = () =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(DATABASE_URL|DB_|TEST_|PORT$|NODE_ENV$)/.test(k)));

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  until?: RegExp,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...cleanEnv(), ...env } });
    let output = '';
    const onData = (d: Buffer) => {
      output += d.toString();
      // The gateway runs until stopped: once it listens, its migrations are done.
      if (until?.test(output) && child.exitCode === null) child.kill('SIGTERM');
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

it('three migrators at once on an empty database: all exit 0, each migration applied once', async () => {
  const env = { DATABASE_URL: db.url };
  // A start line, so that the three really overlap (their start-up costs differ by seconds): an
  // uncommitted CREATE TABLE of TypeORM's bookkeeping table makes every migrator that gets to
  // creating it wait; rolled back once all three wait, the database is empty again and they go.
  await db.query('BEGIN');
  await db.query('CREATE TABLE typeorm_migrations (id int)');
  const results = Promise.all([
    run('npm', ['run', '-s', 'db:migrate'], env),
    run(process.execPath, ['-r', '@swc-node/register', './node_modules/typeorm/cli.js', 'migration:run', '-d', 'ormconfig.ts'], env),
    run(
      process.execPath,
      ['-r', '@swc-node/register', 'src/main.ts'],
      {
        ...env,
        NODE_ENV: 'production',
        SECRETS_KEYS: TEST_SECRETS_KEYS,
        DB_RUN_MIGRATIONS: 'true',
        HOST: '127.0.0.1',
        PORT: '0',
        HEALTH_MONITOR_ENABLED: 'false',
      },
      /gateway listening/,
    ),
  ]);
  const watcher = new Client({ connectionString: db.url });
  await watcher.connect();
  try {
    for (;;) {
      const [{ n }] = (
        await watcher.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
        )
      ).rows;
      if (n >= 3) break; // without the advisory lock: 3 at the table; with it: 1 there, 2 at the advisory lock
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await watcher.end();
    await db.query('ROLLBACK');
  }
  for (const r of await results)
    expect([r.code, r.output]).toEqual([0, expect.not.stringMatching(/duplicate key|already exists|Error during migration/)]);
  const rows = await db.query<{ name: string; n: number }>(
    'SELECT name, count(*)::int AS n FROM typeorm_migrations GROUP BY name ORDER BY name',
  );
  expect(rows).toEqual(
    (catalogue.migrations as { name: string }[]).map((m) => ({ name: m.name, n: 1 })).sort((a, b) => a.name.localeCompare(b.name)),
  );
  // Exactly one of them applied anything; the others found nothing pending.
  const applied = (await results).filter((r) => /Migration \w+ has been +executed successfully|applied migrations:/.test(r.output));
  expect(applied).toHaveLength(1);
}, 120_000);
