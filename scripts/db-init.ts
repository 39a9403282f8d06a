/**
 * `npm run db:init`: makes the configured database exist, creates (or updates) the gateway's three
 * roles, applies pending migrations as the owner role, and grants the runtime and console roles
 * what they need and nothing more (src/db/database-roles.ts; docker/roles.sql is the same in SQL).
 *
 * It connects as DB_ADMIN_USER / DB_ADMIN_PASSWORD (a superuser, or a role with CREATEROLE and
 * CREATEDB) on the gateway's host; without them, as the gateway's own user. The roles:
 *   owner    DB_OWNER_USER (taskmaster_owner), DB_OWNER_PASSWORD (none: it cannot log in)
 *   runtime  the gateway's DB_USER / DB_PASSWORD (or DATABASE_URL's user): skipped when that is the admin
 *   console  RUN_SQL_DATABASE_URL's user and password: skipped when unset
 * With nothing configured it works on the embedded PostgreSQL that `npm start` uses.
 */
import 'reflect-metadata';
import { Client, type ClientConfig } from 'pg';
import { DataSource } from 'typeorm';
import { loadConfig, type Config } from '../src/config';
import { openDatabase } from '../src/db/database';
import { catalogue } from '../src/catalogue';
import { dataSourceOptions } from '../src/db/data-source';
import { createLogger, type Logger } from '../src/logger';
import { applyRoles, type RolePlan } from '../src/db/database-roles';

/** Connection settings for `database` as the administrator. */
function adminClientConfig(config: Config, database: string): ClientConfig {
  const options = dataSourceOptions(config.db, catalogue);
  const { adminUser, adminPassword } = config.security.roles;
  const base: ClientConfig = options.url
    ? (() => {
        const url = new URL(options.url);
        return {
          host: decodeURIComponent(url.hostname),
          port: Number(url.port || 5432),
          user: decodeURIComponent(url.username),
          password: decodeURIComponent(url.password) || undefined,
        };
      })()
    : { host: options.host, port: options.port, user: options.username, password: options.password };
  return { ...base, ...(adminUser ? { user: adminUser, password: adminPassword } : {}), database, ssl: options.ssl as never };
}

function runtimeUser(config: Config): { name: string; password?: string } {
  if (config.db.url) {
    const url = new URL(config.db.url);
    return { name: decodeURIComponent(url.username) || 'postgres', password: decodeURIComponent(url.password) || undefined };
  }
  return { name: config.db.user, password: config.db.password };
}

function targetDatabase(config: Config): string {
  return config.db.url ? decodeURIComponent(new URL(config.db.url).pathname.slice(1)) || 'postgres' : config.db.name;
}

export async function initDatabase(config: Config, logger: Logger): Promise<void> {
  const target = targetDatabase(config);
  if (!config.db.embedded) {
    const admin = new Client(adminClientConfig(config, 'postgres'));
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
  // The embedded server is started here (and stopped at the end); migrations run below as the owner.
  const embedded = config.db.embedded ? await openDatabase({ ...config.db, runMigrations: false }, catalogue, logger) : undefined;
  const admin = new Client(adminClientConfig(config, target));
  await admin.connect();
  try {
    const { rows } = await admin.query<{ user: string }>('SELECT session_user AS "user"');
    const adminName = rows[0].user;
    const runtime = runtimeUser(config);
    const consoleUrl = config.security.runSql.databaseUrl ? new URL(config.security.runSql.databaseUrl) : undefined;
    for (const name of [config.security.roles.ownerUser, runtime.name, consoleUrl?.username].filter(Boolean) as string[]) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(decodeURIComponent(name)))
        throw new Error(`role name "${name.slice(0, 63)}" must be letters, digits and _ (it appears in connection options)`);
    }
    const plan: RolePlan = {
      database: target,
      owner: { name: config.security.roles.ownerUser, password: config.security.roles.ownerPassword },
      runtime: runtime.name === adminName ? undefined : runtime,
      console: consoleUrl
        ? { name: decodeURIComponent(consoleUrl.username), password: decodeURIComponent(consoleUrl.password) || undefined }
        : undefined,
      consoleStatementTimeoutMs: config.security.runSql.statementTimeoutMs,
      consoleWorkMemKb: config.security.runSql.workMemKb,
      consoleTempFileLimitKb: config.security.runSql.tempFileLimitKb,
    };
    for (const warning of await applyRoles(admin, plan)) logger.warn(warning);
    // Migrations as the owner (the administrator switches to it), so what they create is the owner's.
    const asAdmin = adminClientConfig(config, target);
    const db = {
      ...config.db,
      url: undefined,
      embedded: undefined,
      host: asAdmin.host as string,
      port: asAdmin.port as number,
      name: target,
      user: asAdmin.user as string,
      password: asAdmin.password as string | undefined,
    };
    const options = dataSourceOptions(db, catalogue);
    const migrator = new DataSource({
      ...options,
      extra: { ...(options.extra as Record<string, unknown>), max: 1, options: `-c role=${plan.owner.name}` },
    });
    await migrator.initialize();
    try {
      const applied = await migrator.runMigrations({ transaction: 'each' });
      logger.info(applied.length > 0 ? `applied migrations: ${applied.map((m) => m.name).join(', ')}` : 'database schema is up to date');
    } finally {
      await migrator.destroy();
    }
    await applyRoles(admin, plan); // grants on what the migrations created (its warnings were said above)
    logger.info(
      `roles ready on ${target}: owner ${plan.owner.name}, runtime ${plan.runtime?.name ?? '(none: DB_USER is the administrator)'}, console ${plan.console?.name ?? '(none: RUN_SQL_DATABASE_URL unset)'}`,
    );
    if (!plan.runtime)
      logger.warn(
        `the gateway's DB_USER "${runtime.name}" is the administrator: set DB_USER/DB_PASSWORD to a runtime role (e.g. taskmaster_app) and DB_ADMIN_USER/DB_ADMIN_PASSWORD to the administrator, then run db:init again`,
      );
  } finally {
    await admin.end();
    await embedded?.close();
  }
}

if (require.main === module) {
  const config = loadConfig();
  initDatabase(config, createLogger(config)).catch((error) => {
    console.error('db:init failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
