/**
 * `npm run db:seed [-- --force]`: loads the demo data set (src/seed/) into the configured database,
 * or into the embedded PostgreSQL of `npm start` when none is configured. Applies pending
 * migrations first. Idempotent; refuses a database holding other data unless --force is given.
 */
import 'reflect-metadata';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';
import { catalogue } from '../src/catalogue';
import { DomainError } from '../src/errors';
import { createLogger } from '../src/logger';
import { seedDemoData } from '../src/seed/seed';

const USAGE = 'usage: npm run db:seed [-- --force]';

async function main(argv: string[]): Promise<number> {
  const unknown = argv.filter((a) => a !== '--force');
  if (unknown.length > 0 || argv.includes('--help')) {
    console.error(`${unknown.length > 0 ? `unknown argument: ${unknown[0]}\n` : ''}${USAGE}`);
    return 2;
  }
  const config = loadConfig();
  const logger = createLogger(config);
  const database = await openDatabase({ ...config.db, runMigrations: true }, catalogue, logger);
  try {
    const counts = await seedDemoData(database.dataSource, { force: argv.includes('--force') });
    logger.info(
      `demo data in place: ${counts.tasks} tasks, ${counts.executions} executions, ${counts.integrations} integrations, ${counts.metrics} metric samples`,
    );
    return 0;
  } catch (error) {
    if (error instanceof DomainError) {
      console.error(`db:seed refused: ${error.message}`);
      return 3;
    }
    throw error;
  } finally {
    await database.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error('db:seed failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
