import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from '../context';

/**
 * One log line per GraphQL request: operation name, duration, outcome (`ok` or the error codes)
 * and, through the context's child logger, the request id.
 */
export function createRequestLogPlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, errors, response }) {
          const codes = [...new Set((errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
          contextValue.logger.info('graphql request', {
            operation: operationName ?? null,
            durationMs: Math.round((performance.now() - started) * 10) / 10,
            outcome: codes.length === 0 ? 'ok' : codes.join(','),
            status: response.http.status ?? 200,
          });
        },
      };
    },
  };
}
