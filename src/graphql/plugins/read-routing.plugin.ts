import type { ApolloServerPlugin } from '@apollo/server';
import { OperationTypeNode } from 'graphql';
import { budgetKey } from '../../auth/principal';
import { parseLsn, PRIMARY_ROUTE, type ReplicaSet } from '../../db/replicas';
import { BadInputError } from '../../errors';
import { requestStats } from '../../request';
import type { Context } from '../context';

/** The header a client sends back (and a mutation's answer carries): a WAL position, `X/Y`. */
export const READ_AFTER_HEADER = 'x-read-after';

/**
 * Read replicas at the GraphQL boundary (installed only when the gateway has replicas): a query's
 * reads may go to a replica, after the position of X-Read-After or of its token's last write; a
 * mutation's reads, all of them, go to the primary, and its answer carries the WAL position its
 * commits reached (X-Read-After header, `extensions.readAfter`). The route is kept in the request's
 * store, where the rows layer (src/db/sql.ts, rows.ts) finds it at each read.
 */
export function createReadRoutingPlugin(replicas: ReplicaSet): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, contextValue, request }) {
          const store = requestStats.getStore();
          if (!store) return;
          if (operation?.operation !== OperationTypeNode.QUERY) {
            store.reads = PRIMARY_ROUTE;
            return;
          }
          if (store.reads?.primary) return; // a batch that carries a mutation: all of it on the primary
          const header = request.http?.headers.get(READ_AFTER_HEADER);
          const given = header === undefined ? undefined : parseLsn(header.trim());
          if (header !== undefined && given === undefined) {
            // Thrown before execution: the status comes with it (400, not Apollo's default 500).
            throw Object.assign(
              new BadInputError(
                'X-Read-After',
                `expected a WAL position as a mutation's answer gave it (e.g. 0/16B3748), got "${header.slice(0, 40)}"`,
              ),
              { extensions: { http: { status: 400 } } },
            );
          }
          store.reads = replicas.routeFor(budgetKey(contextValue.principal), given);
        },
        async willSendResponse({ operation, contextValue, response }) {
          if (operation?.operation !== OperationTypeNode.MUTATION) return;
          let lsn: string;
          try {
            lsn = await replicas.committed(budgetKey(contextValue.principal));
          } catch (error) {
            // The primary is away (the mutation's own error says so): an answer without a position.
            contextValue.logger.warn('could not read the WAL position after a mutation', { error: String(error) });
            return;
          }
          response.http.headers.set(READ_AFTER_HEADER, lsn);
          if (response.body.kind === 'single') {
            const result = response.body.singleResult;
            result.extensions = { ...result.extensions, readAfter: lsn };
          }
        },
      };
    },
  };
}
