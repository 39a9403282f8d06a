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
  | 'SERVICE_UNAVAILABLE';

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
