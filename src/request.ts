import type { Logger } from './logger';

/**
 * Who and what a service call is for. Services' writing methods take it first, so that request-
 * bound concerns (the principal, the audit trail, the request id in logs) follow the request into
 * the service and its transaction. The GraphQL context is one.
 */
export interface RequestScope {
  requestId: string;
  logger: Logger;
}
