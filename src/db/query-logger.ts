import type { Logger as TypeOrmLogger } from 'typeorm';
import type { Logger } from '../logger';
import { countStatement, requestStats } from '../request';

/**
 * TypeORM's logger, pointed at winston: counts every statement against the current request, and
 * logs statements slower than the threshold with their text (never their parameter values) and the
 * request id that ties them to the request's own log line.
 */
export function createQueryLogger(logger: Logger): TypeOrmLogger {
  return {
    logQuery() {
      countStatement();
    },
    logQuerySlow(durationMs, query) {
      logger.warn('slow query', { requestId: requestStats.getStore()?.requestId, durationMs, sql: query });
    },
    logQueryError(error, query) {
      logger.debug('query failed', { requestId: requestStats.getStore()?.requestId, sql: query, error: String(error) });
    },
    logSchemaBuild(message) {
      logger.debug(message);
    },
    logMigration(message) {
      logger.info(message);
    },
    log(level, message) {
      logger.log(level === 'log' ? 'debug' : level, String(message));
    },
  };
}
