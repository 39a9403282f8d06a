import { QueryRunnerAlreadyReleasedError } from 'typeorm';

/**
 * Domain errors. Services throw these; `domainError` below turns any other thrown value into one, and the
 * one boundary in `graphql/errors.ts` turns them into `extensions.code`. Anything else that is
 * thrown is unexpected: logged with an id and masked.
 */

/**
 * Every code the API answers in `extensions.code`, whoever answers it (a service, a limit, Apollo,
 * the HTTP layer), each with its row in docs/api.md's error table (test/error-codes.test.ts).
 */
export const ERROR_CODES = [
  // thrown by services (DomainError)
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'SERVICE_UNAVAILABLE',
  'OUTCOME_UNKNOWN',
  // limits
  'RATE_LIMITED',
  'COST_LIMIT_EXCEEDED',
  'SUBSCRIPTION_LIMIT_EXCEEDED',
  // the request itself, refused before execution (GraphQL, Apollo, the HTTP layer)
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'REQUEST_HEADER_FIELDS_TOO_LARGE',
  // anything unexpected (masked, with an errorId)
  'INTERNAL_SERVER_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Safe, client-visible details (e.g. the offending field). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export class BadInputError extends DomainError {
  constructor(field: string, message: string, details: Record<string, unknown> = {}) {
    super('BAD_USER_INPUT', `${field}: ${message}`, { field, ...details });
  }
}

export class NotFoundError extends DomainError {
  constructor(entity: string, id: string, field = 'id') {
    super('NOT_FOUND', `${field}: no ${entity} with id ${id}`, { field, entity, id });
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFLICT', message, details);
  }
}

/** A stale expectedVersion: CONFLICT with the row's current version (and status, where it has one). */
export class StaleVersionError extends ConflictError {
  constructor(entity: string, current: { version: number; status?: string | null }, expected: number) {
    super(
      `expectedVersion: the ${entity} is at version ${current.version}, not ${expected}: someone changed it since you read it; re-read it and retry`,
      {
        field: 'expectedVersion',
        currentVersion: current.version,
        ...(current.status != null ? { currentStatus: current.status.toUpperCase() } : {}),
      },
    );
  }
}

/** Seconds a client is told to wait before retrying a write whose outcome is unknown. */
export const OUTCOME_UNKNOWN_RETRY_AFTER_SECONDS = 1;

/**
 * The connection was lost after a write was sent: it may or may not have committed. HTTP 503 with
 * Retry-After; the client retries with the same idempotency key (a create) or re-reads and retries
 * with expectedVersion (an update), never blindly.
 */
export class OutcomeUnknownError extends DomainError {
  /** Read by Apollo (through the located GraphQL error) to set the HTTP status and headers. */
  readonly extensions = {
    http: { status: 503, headers: new Map([['retry-after', String(OUTCOME_UNKNOWN_RETRY_AFTER_SECONDS)]]) },
  };

  constructor() {
    super(
      'OUTCOME_UNKNOWN',
      'The connection to the database was lost after the write was sent: it may or may not have been applied. Retry with the same idempotency key (or re-read and retry with expectedVersion).',
      { retryAfterSeconds: OUTCOME_UNKNOWN_RETRY_AFTER_SECONDS },
    );
  }
}

/**
 * The one failure classifier: what a thrown value (a pg or TypeORM error, a socket error, the pool
 * refusing, the rate-limit store out of reach, a domain error) means. `connectionFailure` decides
 * whether the database could not be reached or the connection was lost; `domainError` turns any
 * thrown value into the domain error the API answers, once. Everything else asks these two.
 */

/**
 * How a connection to the database failed:
 * - `unreachable`: nothing was sent (refused, unresolvable, starting up, too many connections);
 * - `saturated`: nothing was sent, no pooled connection came free in time (pool exhaustion);
 * - `lost`: it went away with a statement in flight or between two of a transaction: whatever was
 *   sent may or may not have committed;
 * - `closed`: the pool was closed under the request (shutting down).
 */
export type ConnectionFailure = 'unreachable' | 'saturated' | 'lost' | 'closed';

const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ETIMEDOUT',
  '08001',
  '08004',
  '57P03',
  '53300',
]);
const LOST = new Set(['ECONNRESET', 'ECONNABORTED', 'EPIPE', '08000', '08003', '08006', '08007', '57P01', '57P02', '57P05']);

/** The SQLSTATE PostgreSQL answered (on a QueryFailedError or pg's own error), or undefined: no answer from it. */
export function sqlState(error: unknown): string | undefined {
  const code = errorCodeOf(error);
  return code !== undefined && /^[0-9FHPX][0-9A-Z]{4}$/.test(code) ? code : undefined;
}

/** Whether, and how, a thrown value means the database is unreachable or the connection was lost; undefined when it is something else. */
export function connectionFailure(error: unknown): ConnectionFailure | undefined {
  // TypeORM's runner releases itself when its connection emits an error (the server went away
  // between two statements of a transaction): the next statement meets the released runner.
  if (error instanceof QueryRunnerAlreadyReleasedError) return 'lost';
  const code = errorCodeOf(error);
  if (code !== undefined && UNREACHABLE.has(code)) return 'unreachable';
  if (code !== undefined && LOST.has(code)) return 'lost';
  const message = messageOf(error);
  if (/timeout exceeded when trying to connect/i.test(message)) return 'saturated';
  if (/Connection terminated due to connection timeout|the database system is (starting up|shutting down)/i.test(message))
    return 'unreachable';
  if (
    /Connection terminated|terminating connection|Client has encountered a connection error|has been ended by the other party/i.test(
      message,
    )
  )
    return 'lost';
  if (
    /Cannot use a pool after calling end|connection is not yet established|Connection pool has been closed|Client was closed and is not queryable/i.test(
      message,
    )
  )
    return 'closed';
  return undefined;
}

const OUTAGE_MESSAGES: Record<ConnectionFailure, string> = {
  unreachable: 'The database is unavailable; retry later.',
  lost: 'The database is unavailable; retry later.',
  saturated: 'The database is unavailable or saturated; retry later.',
  closed: 'The service is shutting down; retry later.',
};

/**
 * The domain error a thrown value means, or undefined when it is unexpected (a fault of ours:
 * logged under an error id and masked). Driver text is never passed through.
 */
export function domainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  switch (sqlState(error)) {
    case '23503':
      return new DomainError('CONFLICT', 'The change conflicts with related records (a foreign key).');
    case '23505':
      return new DomainError('CONFLICT', 'A record with the same key already exists.');
    case '40001':
    case '40P01':
      return new DomainError('CONFLICT', 'The change collided with a concurrent one; retry it.');
    case '57014':
      return new DomainError('SERVICE_UNAVAILABLE', 'The database cancelled the statement (timeout); retry later.');
  }
  const failure = connectionFailure(error);
  if (failure) return new DomainError('SERVICE_UNAVAILABLE', OUTAGE_MESSAGES[failure]);
  // The Redis rate-limit store (RATE_LIMIT_STORE=redis) out of reach.
  if (
    error instanceof Error &&
    (error.name === 'MaxRetriesPerRequestError' || /^Connection is closed|Stream isn't writeable/.test(error.message))
  )
    return new DomainError('SERVICE_UNAVAILABLE', 'The rate-limit store is unavailable; retry later.');
  return undefined;
}

function errorCodeOf(error: unknown): string | undefined {
  const e = error as { driverError?: { code?: unknown }; code?: unknown } | undefined;
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  const e = error as { driverError?: { message?: unknown }; message?: unknown } | undefined;
  const message = e?.driverError?.message ?? e?.message;
  return typeof message === 'string' ? message : '';
}
