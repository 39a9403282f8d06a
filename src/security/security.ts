import type { DataSource } from 'typeorm';
import { Authenticator, type TokenVerifier } from './authenticate';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { LeasingRateLimiter, PostgresRateLimiter, RedisRateLimiter, type RefundingRateLimiter } from './rate-limiter';

/** What security needs of the services the composition root built (src/services.ts). */
export interface SecurityServices {
  tokens: TokenVerifier;
}

/** The security machinery a gateway holds for its lifetime: who is calling, and their budgets. */
export interface Security {
  authenticator: Authenticator;
  rateLimiter: RefundingRateLimiter;
  close(): Promise<void>;
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
    },
  };
}
