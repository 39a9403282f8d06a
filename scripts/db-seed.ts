/**
 * `npm run db:seed`: loads the demo data set (src/seed/) into the configured database, or into the
 * embedded PostgreSQL of `npm start` when none is configured. Applies pending migrations first.
 * Idempotent; demo rows go beside the database's other rows, which it never touches, and it says
 * how many it added, refreshed and left alone. (`--force`, once needed for a database holding other
 * data, is still accepted and changes nothing.)
 */
import 'reflect-metadata';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/database';
import { catalogue } from '../src/catalogue';
import { createLogger } from '../src/logger';
import { DEMO_ID_PREFIX } from '../src/seed/demo-ids';
import { describeSeed, seedDemoData } from '../src/seed/seed';

const USAGE =
  'usage: npm run db:seed\n' +
  `Adds the demo data (ids starting ${DEMO_ID_PREFIX}) beside the rows the database already holds, and refreshes it when run again.`;

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
    // On stdout whatever LOG_LEVEL says: it is the command's answer.
    console.log(`db:seed: ${describeSeed(await seedDemoData(database.dataSource))}`);
    return 0;
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
