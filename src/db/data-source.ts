import { readFileSync } from 'node:fs';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config';
import type { Logger } from '../logger';
import { createQueryLogger } from './query-logger';
import { entities, migrations } from './entities';

type PostgresConnectionOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

function ssl(db: DatabaseConfig): PostgresConnectionOptions['ssl'] {
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

/** Connection options shared by the gateway, the CLI (`ormconfig.ts`) and the tests. Never synchronizes. */
export function dataSourceOptions(db: DatabaseConfig, logger?: Logger): PostgresConnectionOptions {
  return {
    type: 'postgres',
    ...(db.url ? { url: db.url } : { host: db.host, port: db.port, database: db.name, username: db.user, password: db.password }),
    ssl: ssl(db),
    entities,
    migrations,
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

export function createDataSource(db: DatabaseConfig, logger?: Logger): DataSource {
  return new DataSource(dataSourceOptions(db, logger));
}
