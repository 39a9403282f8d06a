/**
 * Domain errors. Services throw these; the one boundary in `graphql/errors.ts` turns them into
 * `extensions.code`. Anything else that is thrown is unexpected: logged with an id and masked.
 */
export type ErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'OUTCOME_UNKNOWN';

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
