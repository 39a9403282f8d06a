import type { DataSource } from 'typeorm';
import { query } from '../db/rows';
import { Authenticator, type TokenVerifier } from './authenticate';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { LeasingRateLimiter, PostgresRateLimiter, RedisRateLimiter, type RefundingRateLimiter } from './rate-limiter';
import type { SqlConsole } from './sql-console';

/** What security needs of the services the composition root built (src/services.ts). */
export interface SecurityServices {
  tokens: TokenVerifier;
  sql: SqlConsole;
}

/** The security machinery a gateway holds for its lifetime: who is calling, and their budgets. */
export interface Security {
  authenticator: Authenticator;
  rateLimiter: RefundingRateLimiter;
  close(): Promise<void>;
}

/**
 * Start-up checks of the database roles: a warning when the gateway itself runs as a superuser (it
 * needs only the runtime role's DML), and runSql's console role checked (production refuses an
 * unfit one, naming the fix).
 */
export async function checkDatabaseRoles(config: Config, db: DataSource, services: SecurityServices, logger: Logger): Promise<void> {
  const [me] = await query<{ user: string; superuser: boolean }>(
    db,
    `SELECT session_user AS "user", EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolsuper AND pg_has_role(session_user, r.oid, 'MEMBER')) AS "superuser"`,
  );
  if (me?.superuser && !config.db.embedded) {
    logger.warn(
      `the gateway connects to PostgreSQL as "${me.user}", a superuser (or a member of one); it needs only DML. Create the runtime role with \`npm run db:init\` (or docker/roles.sql) and set DB_USER/DB_PASSWORD (or DATABASE_URL) to it`,
    );
  }
  await services.sql.checkRole(config.isProduction, logger);
}

export function createSecurity(config: Config, db: DataSource, services: SecurityServices, logger: Logger): Security {
  const { security } = config;
  if (security.secrets.insecureDevelopmentKey) {
    logger.warn(
      'SECRETS_KEYS is not set: integration credentials are encrypted with a public development key. Set SECRETS_KEYS before storing real credentials.',
    );
  }
  if (security.auth.anonymousRead) logger.warn('AUTH_ANONYMOUS_READ is on: requests without a token may read everything');
  const rateLimiter = new LeasingRateLimiter(
    security.limits.store === 'redis'
      ? new RedisRateLimiter(security.limits.redisUrl as string, security.limits.budgetPerMinute)
      : new PostgresRateLimiter(db, security.limits.budgetPerMinute),
  );
  return {
    authenticator: new Authenticator(security.auth, services.tokens),
    rateLimiter,
    async close() {
      await rateLimiter.close();
      await services.sql.close();
    },
  };
}
