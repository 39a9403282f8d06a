import { randomUUID } from 'node:crypto';
import { getOperationAST, GraphQLError, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import type { SubscribePayload } from 'graphql-ws';
import type { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal';
import { apiError } from '../graphql/errors';
import { SUBSCRIPTION_MIN_COST } from '../security/cost';
import type { OperationPipeline } from '../security/pipeline';
import type { ChangeHub } from './change-hub';
import type { SubscriptionContext } from './subscription.resolver';
import type { SocketState } from './ws-socket';

export interface PrepareOptions {
  schema: GraphQLSchema;
  pipeline: OperationPipeline;
  hub: ChangeHub;
  db: DataSource;
  /** SUBSCRIPTION_MAX_PER_SOCKET */
  maxPerSocket: number;
  /** Closes the socket as a slow consumer (ws-backpressure.ts). */
  slowConsumer(state: SocketState): void;
}

/**
 * A subscribe, through the steps an HTTP request goes through (security/pipeline.ts): parse and
 * validation, the operation (a subscription: queries and mutations go to POST /graphql), cost
 * (one event's, at least SUBSCRIPTION_MIN_COST, charged once at subscribe: docs/security.md),
 * the token's budget, and the context. The execution arguments, or the refusal.
 */
export async function prepareSubscribe(
  o: PrepareOptions,
  state: SocketState,
  id: string,
  payload: SubscribePayload,
): Promise<ExecutionArgs | GraphQLError[]> {
  const { schema, pipeline } = o;
  const principal = state.principal as Principal;
  // The slot is taken before anything is awaited, so subscribes arriving together count.
  if (state.active.size >= o.maxPerSocket) {
    const message = `This socket already runs ${o.maxPerSocket} subscriptions (SUBSCRIPTION_MAX_PER_SOCKET): complete one, or open another socket`;
    return [apiError('SUBSCRIPTION_LIMIT_EXCEEDED', message, { details: { limit: o.maxPerSocket } })];
  }
  state.active.add(id);
  const document = pipeline.document(payload.query);
  if (Array.isArray(document)) return document;
  const operation = pipeline.operation(document, getOperationAST(document, payload.operationName), payload.operationName, 'ws');
  if (operation instanceof GraphQLError) return [operation];
  const variables = payload.variables ?? undefined;
  const charged = await pipeline.charge(principal, pipeline.cost(document, operation, variables, SUBSCRIPTION_MIN_COST));
  if (charged.refusal) return [charged.refusal];
  const contextValue: SubscriptionContext = {
    ...pipeline.context(principal, randomUUID()),
    changes: o.hub,
    db: o.db,
    slowConsumer: () => o.slowConsumer(state),
    shareKey: JSON.stringify([principal.role, payload.query, payload.operationName ?? null, variables ?? null]),
  };
  return { schema, document, operationName: payload.operationName, variableValues: variables, contextValue };
}
