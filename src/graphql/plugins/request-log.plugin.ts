import type { ApolloServerPlugin } from '@apollo/server';
import { requestStats } from '../../request';
import type { Context } from '../context';
import { errorCode } from '../errors';

export interface RequestLogOptions {
  /** Also send the statement count to the client as `X-SQL-Statements` (default false). */
  sqlCountHeader?: boolean;
}

/**
 * One log line per GraphQL request: operation name, duration, outcome (`ok` or the first error code,
 * as /metrics counts it; `codes` lists them all when there are several),
 * SQL statements issued and, through the context's child logger, the request id.
 */
export function createRequestLogPlugin({ sqlCountHeader = false }: RequestLogOptions = {}): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, errors, response }) {
          const sqlStatements = requestStats.getStore()?.sqlStatements ?? 0;
          if (sqlCountHeader) response.http.headers.set('x-sql-statements', String(sqlStatements));
          // The formatted errors carry the codes the client sees, the ones /metrics counts (raw
          // resolver errors have none yet).
          const sent = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const codes = [...new Set((sent ?? errors ?? []).map(errorCode))];
          contextValue.logger.info('graphql request', {
            operation: operationName ?? null,
            durationMs: Math.round((performance.now() - started) * 10) / 10,
            // The first code, as /metrics labels the request; every code when there are several.
            outcome: codes[0] ?? 'ok',
            ...(codes.length > 1 ? { codes } : {}),
            status: response.http.status ?? 200,
            sqlStatements,
          });
        },
      };
    },
  };
}
