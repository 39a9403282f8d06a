import type { ApolloServerPlugin } from '@apollo/server';
import type { Context } from '../graphql/context';
import type { GatewayMetrics } from './gateway-metrics';

/** Counts and times every GraphQL request by operation name and outcome for /metrics and the monitor. */
export function createMetricsPlugin(metrics: GatewayMetrics): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, errors, response }) {
          // The formatted errors carry the codes the client sees (raw resolver errors have none yet).
          const sent = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const codes = [...new Set((sent ?? errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')))];
          const status = response.http.status ?? 200;
          if (codes.length === 0 && status >= 500) codes.push('INTERNAL_SERVER_ERROR');
          metrics.observeRequest(operationName, codes, performance.now() - started);
        },
      };
    },
  };
}
