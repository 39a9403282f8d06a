import type { ApolloServerPlugin } from '@apollo/server';
import { OperationTypeNode } from 'graphql';
import type { Context } from '../graphql/context';
import { unauthenticated } from './authenticate';

/**
 * Where anonymous reads are open (development only), a mutation without a token is refused as a
 * whole with HTTP 401 before it executes, as it would be anywhere else.
 */
export function createAnonymousWritePlugin(): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, operation }) {
          if (contextValue.principal.kind === 'anonymous' && operation && operation.operation !== OperationTypeNode.QUERY) {
            throw unauthenticated('Authentication required for mutations: send Authorization: Bearer <token>');
          }
        },
      };
    },
  };
}
