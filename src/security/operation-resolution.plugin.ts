import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Context } from '../graphql/context';
import type { OperationPipeline } from './pipeline';

/**
 * The pipeline's operation step for HTTP (security/pipeline.ts, `operation`). A valid document
 * whose operation cannot be chosen (an `operationName` that names none of its operations, several
 * operations and no name) is the client's mistake: HTTP 400 with OPERATION_RESOLUTION_FAILURE,
 * before any other plugin looks at the operation. Apollo Server calls `didResolveOperation` even
 * when it resolved none; this plugin is first in the list so that the refusal is the one the client
 * sees, and the other plugins also skip a missing operation. A subscription sent over HTTP is
 * refused here too (400, BAD_USER_INPUT naming the WebSocket): executed as a query it would fail
 * inside its resolver, an INTERNAL_SERVER_ERROR.
 */
export function createOperationResolutionPlugin(pipeline: OperationPipeline): ApolloServerPlugin<Context> {
  // One listener for every request: it keeps no per-request state.
  const listener: GraphQLRequestListener<Context> = {
    async didResolveOperation({ operation, document, request }) {
      const resolved = pipeline.operation(document, operation, request.operationName, 'http');
      if (resolved instanceof GraphQLError) throw resolved;
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}
