import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config';
import type { Logger } from '../logger';
import { createDataSource } from './data-source';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded';

export interface Database {
  dataSource: DataSource;
  close(): Promise<void>;
}

/**
 * Connects to the configured PostgreSQL, or starts the embedded one when none is configured, then
 * applies pending migrations when `runMigrations` is on.
 */
export async function openDatabase(db: DatabaseConfig, logger: Logger): Promise<Database> {
  let embedded: EmbeddedServer | undefined;
  if (db.embedded) {
    embedded = await startEmbeddedPostgres(
      { ...db.embedded, user: db.user, password: db.password ?? 'postgres', database: db.name, persistent: true },
      logger,
    );
  }
  const dataSource = createDataSource(db, logger);
  try {
    await dataSource.initialize();
    if (db.runMigrations) {
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      logger.info(applied.length > 0 ? `applied migrations: ${applied.map((m) => m.name).join(', ')}` : 'database schema is up to date');
    }
  } catch (error) {
    if (dataSource.isInitialized) await dataSource.destroy();
    await embedded?.stop();
    throw error;
  }
  return {
    dataSource,
    async close() {
      await dataSource.destroy();
      await embedded?.stop();
    },
  };
}
