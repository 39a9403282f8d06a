import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './auth/principal';
import type { Logger } from './logger';

/**
 * Who and what a service call is for. Services' writing methods take it first, so that request-
 * bound concerns (the principal, the audit trail, the request id in logs) follow the request into
 * the service and its transaction. The GraphQL context is one.
 */
export interface RequestScope {
  /** The client's X-Request-Id when well-formed, else serverRequestId. */
  requestId: string;
  /** The id the gateway made for this request (none for commands such as token:create). */
  serverRequestId?: string;
  logger: Logger;
  /** Who the request acts for (checked by the auth checker; written to the audit log). */
  principal: Principal;
  /** The request's Idempotency-Key header, if any (create-like mutations honour it; src/idempotency). */
  idempotencyKey?: string;
}

/** Where one request's reads go when the gateway has read replicas (src/db/replicas.ts decides). */
export interface ReadRoute {
  /** Everything on the primary (a mutation, or a request that carried one). */
  primary: boolean;
  /** The WAL position a replica must have replayed to serve this request. */
  after?: bigint;
  /** The server chosen at the request's first read (undefined: the primary). */
  target?: Promise<object | undefined>;
}

/** Figures gathered while one HTTP request runs. */
export interface RequestStats {
  requestId: string;
  /** SQL statements sent to PostgreSQL on behalf of this request (BEGIN/COMMIT included). */
  sqlStatements: number;
  /** Where its reads may go when the gateway has read replicas (set by the read-routing plugin; src/db/replicas.ts). */
  reads?: ReadRoute;
}

/**
 * The one piece of request state reached without passing it: TypeORM calls its logger with no
 * request at hand, so the SQL statement count and the request id of slow-query lines come from
 * here. The store is per request (set by the HTTP layer); the module holds only the carrier.
 */
export const requestStats = new AsyncLocalStorage<RequestStats | undefined>();

/** Counts one statement sent to PostgreSQL for the current request, if any (call it once connected). */
export function countStatement(): void {
  const stats = requestStats.getStore();
  if (stats) stats.sqlStatements += 1;
}

/**
 * Runs `work` as no request's (security bookkeeping: not the request's own SQL). Not
 * `requestStats.exit`: on Node 20 that switches the process-wide async hook off and on again on
 * every call, where running with no store costs a fraction of it.
 */
export function outsideRequest<T>(work: () => T): T {
  return requestStats.run(undefined, work);
}
