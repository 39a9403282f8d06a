import { readFileSync } from 'node:fs';
import { Client, type ClientConfig, type Pool, type PoolConfig } from 'pg';
import { DataSource, MigrationExecutor, type DataSourceOptions, type Migration } from 'typeorm';
import type { DatabaseConfig } from '../config';
import type { Logger } from '../logger';
import { createQueryLogger } from './query-logger';

type PostgresConnectionOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

/** The entities and migrations a DataSource is built with (src/catalogue.ts: db/ names no feature). */
export interface Catalogue {
  entities: NonNullable<PostgresConnectionOptions['entities']>;
  migrations: NonNullable<PostgresConnectionOptions['migrations']>;
}

/** For DataSource options built only to be looked at (the tests' option checks): no entities, no migrations. */
export const NO_CATALOGUE: Catalogue = { entities: [], migrations: [] };

export function sslOptions(db: DatabaseConfig): PostgresConnectionOptions['ssl'] {
  switch (db.sslMode) {
    case 'disable':
      return false;
    case 'require':
      // libpq's "require": encrypted, server certificate not checked.
      return { rejectUnauthorized: false };
    case 'verify-ca':
    case 'verify-full':
      return {
        ca: readFileSync(db.sslCaFile as string, 'utf8'),
        rejectUnauthorized: true,
        // verify-ca trusts the CA but not the host name in the certificate.
        ...(db.sslMode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
      };
  }
}

/**
 * The configured database as pg connection settings (pg.Client, pg.Pool): DATABASE_URL, or the
 * DB_* parts, and DB_SSL_MODE. The one place they are built from the config: TypeORM's options
 * below, the health probe's connection, runSql's pool and the change listener start from it.
 */
export function pgSettings(db: DatabaseConfig): ClientConfig {
  return {
    ...(db.url ? { connectionString: db.url } : { host: db.host, port: db.port, database: db.name, user: db.user, password: db.password }),
    ssl: sslOptions(db) as ClientConfig['ssl'],
  };
}

/** Connection options shared by the gateway, the CLI (`ormconfig.ts`) and the tests. Never synchronizes. */
export function dataSourceOptions(db: DatabaseConfig, catalogue: Catalogue, logger?: Logger): PostgresConnectionOptions {
  const pg = pgSettings(db);
  return {
    type: 'postgres',
    ...(pg.connectionString
      ? { url: pg.connectionString }
      : { host: pg.host, port: pg.port, database: pg.database, username: pg.user, password: pg.password as string | undefined }),
    ssl: pg.ssl as PostgresConnectionOptions['ssl'],
    entities: catalogue.entities,
    migrations: catalogue.migrations,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    migrationsRun: false,
    ...(logger ? { logger: createQueryLogger(logger), maxQueryExecutionTime: db.slowQueryMs } : { logging: false }),
    applicationName: 'taskmaster-gateway',
    // pg.Pool options.
    extra: {
      min: db.pool.min,
      max: db.pool.max,
      idleTimeoutMillis: db.pool.idleTimeoutMs,
      connectionTimeoutMillis: db.pool.connectionTimeoutMs,
      statement_timeout: db.pool.statementTimeoutMs || undefined,
      maxLifetimeSeconds: db.pool.maxLifetimeSeconds,
      maxUses: db.pool.maxUses || Infinity,
    },
  };
}

/** The advisory lock every migrator of this schema takes (a fixed key: one schema, one lock). */
export const MIGRATION_LOCK_KEY = 'taskmaster-gateway:migrations';

/**
 * A DataSource whose migration runs (and reverts) hold a PostgreSQL advisory lock, so that two or
 * three migrators at once (gateways starting, `npm run db:migrate`, CI's `typeorm migration:run -d
 * ormconfig.ts`) run one after the other: the first applies what is pending, the others then find
 * nothing to do. TypeORM 1.1.1 has no lock of its own (MigrationExecutor reads the applied list and
 * creates its table unguarded). The CLI calls `dataSource.runMigrations` on the DataSource that
 * ormconfig.ts exports, so this override covers every migrator we ship. The lock is held on a
 * connection of its own, outside the pool (a pool of one would otherwise wait for itself).
 */
export class MigrationLockingDataSource extends DataSource {
  override runMigrations(options?: Parameters<DataSource['runMigrations']>[0]): Promise<Migration[]> {
    return this.underMigrationLock((executor) => {
      executor.transaction = options?.transaction ?? this.options.migrationsTransactionMode ?? 'all';
      executor.fake = options?.fake ?? false;
      return executor.executePendingMigrations();
    });
  }

  override undoLastMigration(options?: Parameters<DataSource['undoLastMigration']>[0]): Promise<void> {
    return this.underMigrationLock((executor) => {
      executor.transaction = options?.transaction ?? 'all';
      executor.fake = options?.fake ?? false;
      return executor.undoLastMigration();
    });
  }

  /**
   * Runs `work` under the migration lock, on one pooled connection without DB_STATEMENT_TIMEOUT: the
   * pool's timeout is for requests, and a migration that rewrites a table must not be cancelled half
   * way because the gateway starting it was given a short one (`RESET` gives the connection back as
   * the pool made it).
   */
  private async underMigrationLock<T>(work: (executor: MigrationExecutor) => Promise<T>): Promise<T> {
    return this.underAdvisoryLock(async () => {
      const runner = this.createQueryRunner();
      try {
        await runner.query('SET statement_timeout = 0');
        return await work(new MigrationExecutor(this, runner));
      } finally {
        await runner.query('RESET statement_timeout').catch(() => undefined);
        await runner.release();
      }
    });
  }

  private async underAdvisoryLock<T>(work: () => Promise<T>): Promise<T> {
    const pool = (this.driver as unknown as { master?: Pool & { options: PoolConfig } }).master;
    // pg keeps the pool's password non-enumerable: named, or the spread would drop it.
    const lock = new Client({ ...pool?.options, password: pool?.options.password, application_name: 'taskmaster-gateway-migration-lock' });
    await lock.connect();
    try {
      await lock.query('SELECT pg_advisory_lock(hashtext($1))', [MIGRATION_LOCK_KEY]);
      try {
        return await work();
      } finally {
        await lock.query('SELECT pg_advisory_unlock(hashtext($1))', [MIGRATION_LOCK_KEY]);
      }
    } finally {
      await lock.end();
    }
  }
}

export function createDataSource(db: DatabaseConfig, catalogue: Catalogue, logger?: Logger): DataSource {
  return new MigrationLockingDataSource(dataSourceOptions(db, catalogue, logger));
}
