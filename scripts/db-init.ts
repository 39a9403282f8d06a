/**
 * `npm run db:init`: makes the configured database exist and brings its schema up to date. With
 * nothing configured it does so for the embedded PostgreSQL that `npm start` uses.
 */
import 'reflect-metadata';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';
import { dataSourceOptions } from '../src/db/data-source';
import { createLogger } from '../src/logger';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config);
  if (!config.db.embedded) {
    const options = dataSourceOptions(config.db);
    const target = config.db.url ? new URL(config.db.url).pathname.slice(1) : config.db.name;
    // The server's maintenance database; in a URL the path names the database and wins over `database`.
    const adminUrl = config.db.url ? Object.assign(new URL(config.db.url), { pathname: '/postgres' }).toString() : undefined;
    const admin = new Client({
      ...(adminUrl ? { connectionString: adminUrl } : { host: config.db.host, port: config.db.port, user: config.db.user, password: config.db.password, database: 'postgres' }),
      ssl: options.ssl as never,
    });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [target]);
      if (rowCount === 0) {
        await admin.query(`CREATE DATABASE "${target.replace(/"/g, '""')}"`);
        logger.info(`created database ${target}`);
      }
    } finally {
      await admin.end();
    }
  }
  const database = await openDatabase({ ...config.db, runMigrations: true }, logger);
  await database.close();
}

main().catch((error) => {
  console.error('db:init failed:', error instanceof Error ? error.message : error);
  process.exit(1);
});
