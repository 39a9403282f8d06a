import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { Kind, OperationTypeNode, type DocumentNode, type GraphQLError } from 'graphql';
import type { Context } from '../context';
import { apiError } from '../errors';

/**
 * A valid document whose operation cannot be chosen (an `operationName` that names none of its
 * operations, several operations and no name) is the client's mistake: HTTP 400 with
 * OPERATION_RESOLUTION_FAILURE, before any other plugin looks at the operation. Apollo Server calls
 * `didResolveOperation` even when it resolved none; this plugin is first in the list so that the
 * refusal is the one the client sees, and the other plugins also skip a missing operation.
 * A subscription sent over HTTP is refused here too (400, BAD_USER_INPUT naming the WebSocket):
 * executed as a query it would fail inside its resolver, an INTERNAL_SERVER_ERROR.
 */
export function createOperationResolutionPlugin(): ApolloServerPlugin<Context> {
  // One listener for every request: it keeps no per-request state.
  const listener: GraphQLRequestListener<Context> = {
    async didResolveOperation({ operation, document, request }) {
      if (!operation) throw operationResolutionFailure(document, request.operationName);
      if (operation.operation === OperationTypeNode.SUBSCRIPTION)
        throw apiError('BAD_USER_INPUT', 'Subscriptions run over WebSocket (graphql-ws) at this same URL, not over HTTP', { status: 400 });
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

export function operationResolutionFailure(document: DocumentNode, operationName: string | null | undefined): GraphQLError {
  const names = document.definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? [d.name?.value ?? '(anonymous)'] : []));
  const message =
    operationName != null
      ? `Unknown operation named "${operationName}": the document has ${names.length ? names.map((n) => `"${n}"`).join(', ') : 'no operations'}; send one of these as operationName`
      : names.length > 1
        ? `The document has ${names.length} operations (${names.join(', ')}): send the one to run as operationName`
        : 'The document has no operation to run';
  return apiError('OPERATION_RESOLUTION_FAILURE', message, { details: { operations: names }, status: 400 });
}
