import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import { Kind, OperationTypeNode, type OperationDefinitionNode } from 'graphql';
import type { Context } from '../context';
import { RETRY_AFTER_SECONDS, serviceUnavailable } from '../errors';

/** Root fields answered without the database's help (poolHealth reports the outage itself). */
const HEALTH_FIELDS = new Set(['poolHealth', '__typename']);

/** A query that reads health only: what a token verified before an outage may still do during it. */
export function isHealthRead(operation: OperationDefinitionNode | undefined): boolean {
  return (
    operation?.operation === OperationTypeNode.QUERY &&
    operation.selectionSet.selections.every((s) => s.kind === Kind.FIELD && HEALTH_FIELDS.has(s.name.value))
  );
}

/**
 * One outage answer whichever layer noticed. A response carrying SERVICE_UNAVAILABLE gets HTTP 503
 * and `Retry-After`, unless part of its data is still useful: a response in which at least one
 * root field resolved to a value keeps HTTP 200 with the per-field errors (e.g. `{ poolHealth {..}
 * tasks {..} }` during an outage: poolHealth's UNHEALTHY report is what the operator asked for).
 * Errors raised before execution (token check, rate-limit store) carry their 503 themselves.
 */
export function createOutagePlugin(): ApolloServerPlugin<Context> {
  // One listener for every request: it keeps no per-request state.
  const listener: GraphQLRequestListener<Context> = {
    async didResolveOperation({ contextValue, operation }) {
      if (contextValue.principal.healthOnly && operation && !isHealthRead(operation)) {
        throw serviceUnavailable('Could not check the token: the database is unavailable; retry later (poolHealth still answers)');
      }
    },
    async willSendResponse({ response, contextValue }) {
      if (response.body.kind !== 'single') return;
      const { errors, data } = response.body.singleResult;
      if (!errors?.some((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE')) return;
      contextValue.services?.health.noteUnavailable(); // /ready turns 503 while requests fail so
      const useful = data != null && Object.values(data).some((v) => v !== null && v !== undefined);
      if (useful) return;
      response.http.status = 503;
      response.http.headers.set('retry-after', String(RETRY_AFTER_SECONDS));
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}
