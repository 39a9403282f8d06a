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
/**
 * A second, small pool for per-request bookkeeping (token checks, rate-limit counters). Were they
 * on the application pool, a saturated pool would queue every request's authentication behind the
 * slow queries, and an operator could not even ask `poolHealth` why.
 */
export async function openControlDataSource(db: DatabaseConfig, logger: Logger): Promise<DataSource> {
  const control = createDataSource(
    { ...db, pool: { ...db.pool, min: 0, max: 2, connectionTimeoutMs: Math.min(db.pool.connectionTimeoutMs, 2_000) } },
    logger,
  );
  await control.initialize();
  return control;
}

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
