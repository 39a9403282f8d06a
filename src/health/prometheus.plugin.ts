import type { ApolloServerPlugin } from '@apollo/server';
import { Kind, type DocumentNode } from 'graphql';
import type { Context } from '../graphql/context';
import { errorCode } from '../graphql/errors';
import type { GatewayMetrics } from './prometheus';

/** Counts and times every GraphQL request by operation name and outcome for /metrics and the monitor. */
export function createPrometheusPlugin(metrics: GatewayMetrics): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, request, document, errors, response }) {
          // The formatted errors carry the codes the client sees (raw resolver errors have none yet).
          const sent = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          const codes = [...new Set((sent ?? errors ?? []).map(errorCode))];
          const status = response.http.status ?? 200;
          if (codes.length === 0 && status >= 500) codes.push('INTERNAL_SERVER_ERROR');
          // A request refused in validation never resolves its operation: name it from the document.
          const name = operationName ?? request.operationName ?? soleOperationName(document);
          metrics.observeRequest(name, codes, performance.now() - started);
        },
      };
    },
  };
}

function soleOperationName(document: DocumentNode | undefined): string | undefined {
  const operations = document?.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION) ?? [];
  return operations.length === 1 && operations[0].kind === Kind.OPERATION_DEFINITION ? operations[0].name?.value : undefined;
}
