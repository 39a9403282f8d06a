import { randomUUID } from 'node:crypto';
import { unwrapResolverError } from '@apollo/server/errors';
import type { ValidationError } from 'class-validator';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { QueryFailedError } from 'typeorm';
import { DomainError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';

/**
 * The one boundary between thrown values and what a client sees. Only errors known to be safe
 * keep their message: domain errors, input validation, and GraphQL's own parse/validation errors.
 * Everything else is logged in full under an error id and reaches the client masked.
 */
const SAFE_CODES = new Set<string>([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'SERVICE_UNAVAILABLE',
  'OUTCOME_UNKNOWN',
]);

/** The code a client sees on an error (`extensions.code`); INTERNAL_SERVER_ERROR when it has none. */
export function errorCode(error: { readonly extensions?: Readonly<Record<string, unknown>> }): string {
  const code = error.extensions?.code;
  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}

export function createFormatError(logger: Logger, isProduction: boolean, options: { hideSuggestions?: boolean } = {}) {
  const format = formatErrorUnclipped(logger, isProduction);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const out = format(formatted, error);
    const message = options.hideSuggestions ? withoutSuggestions(out.message) : out.message;
    return { ...out, message: clipUserInput(message) };
  };
}

/**
 * graphql-js ends validation and variable-coercion messages with `Did you mean "title"?`, which
 * names fields, arguments, types and enum values: the schema, piece by piece, when introspection
 * is off. (Apollo's hideSchemaDetailsFromClientErrors covers validation only, not variables.)
 */
export function withoutSuggestions(message: string): string {
  return message.replace(/ ?Did you mean .+\?$/s, '');
}

/** Longest run of user input an error message quotes (GraphQL's own messages echo whole values). */
export const MAX_QUOTED_INPUT = 100;

/**
 * A message with every quoted value and every unbroken run longer than MAX_QUOTED_INPUT cut to it
 * (a 100 KB id is echoed twice by graphql-js and graphql-scalars), and at most 2,000 characters.
 */
export function clipUserInput(message: string): string {
  const clip = (text: string) => (text.length > MAX_QUOTED_INPUT ? `${text.slice(0, MAX_QUOTED_INPUT)}…` : text);
  const out = message.replace(/"((?:[^"\\]|\\.)*)"/g, (_m, inner: string) => `"${clip(inner)}"`).replace(/\S{101,}/g, clip);
  return out.length > 2_000 ? `${out.slice(0, 2_000)}…` : out;
}

function formatErrorUnclipped(logger: Logger, isProduction: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = rootCause(error);
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };

    if (original instanceof DomainError) {
      return { ...base, message: original.message, extensions: { code: original.code, ...original.details } };
    }
    if (original instanceof ArgumentValidationError) {
      const fields = flattenValidationErrors(original.extensions.validationErrors);
      return {
        ...base,
        message: fields.map((f) => `${f.field}: ${f.messages.join('; ')}`).join('. '),
        extensions: { code: 'BAD_USER_INPUT', fields },
      };
    }
    const mapped = mapDatabaseError(original);
    if (mapped) return { ...base, message: mapped.message, extensions: { code: mapped.code } };

    // Errors raised before execution (syntax, validation, variable coercion) have no path; their
    // messages are GraphQL's own and safe. So are coded GraphQLErrors from the resolver layer
    // (type-graphql's authorization errors).
    if (original instanceof GraphQLError && (!formatted.path || SAFE_CODES.has(String(original.extensions?.code)))) {
      const { http: _http, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
      // Apollo raises some request errors without a code of their own (a persisted query whose hash
      // does not match, answered 400) and then labels them INTERNAL_SERVER_ERROR: they are BAD_REQUEST.
      const status = (original.extensions?.http as { status?: number } | undefined)?.status;
      if (original.extensions?.code === undefined && status !== undefined && status >= 400 && status < 500) {
        return { ...base, extensions: { ...extensions, code: 'BAD_REQUEST' } };
      }
      return { ...base, extensions: { ...extensions, code: extensions.code ?? 'BAD_USER_INPUT' } };
    }

    const errorId = randomUUID();
    logger.error('unexpected error while resolving', { errorId, path: formatted.path, error: original });
    return {
      ...base,
      message: isProduction ? `Internal server error (error id ${errorId})` : `${messageOf(original)} (error id ${errorId})`,
      extensions: { code: 'INTERNAL_SERVER_ERROR', errorId },
    };
  };
}

/**
 * What was thrown. Apollo wraps a plain Error thrown outside resolvers (a plugin, the context
 * function) in a GraphQLError without a code: look through it, so that it is classified (and
 * masked) like the same error thrown in a resolver.
 */
function rootCause(error: unknown): unknown {
  const unwrapped = unwrapThrownValue(unwrapResolverError(error));
  if (
    unwrapped instanceof GraphQLError &&
    unwrapped.originalError &&
    !(unwrapped.originalError instanceof GraphQLError) &&
    unwrapped.extensions?.code === undefined
  ) {
    return unwrapThrownValue(unwrapped.originalError);
  }
  return unwrapped;
}

/** Seconds a client should wait before retrying after SERVICE_UNAVAILABLE (the Retry-After header). */
export const RETRY_AFTER_SECONDS = 5;

/** The one outage answer: HTTP 503, Retry-After, SERVICE_UNAVAILABLE, a message naming no host, port, driver or SQL. */
export function serviceUnavailable(message = 'The database is unavailable; retry later.', cause?: unknown): GraphQLError {
  return new GraphQLError(message, {
    originalError: cause instanceof Error ? cause : undefined,
    extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503, headers: new Map([['retry-after', String(RETRY_AFTER_SECONDS)]]) } },
  });
}

/**
 * The outage form of a thrown value (database or Redis unreachable, shutting down, pool wait
 * exhausted, pool already closed), or undefined when it is something else.
 */
export function asOutage(error: unknown): GraphQLError | undefined {
  if (error instanceof GraphQLError && error.extensions?.code === 'SERVICE_UNAVAILABLE') return error;
  const mapped = mapDatabaseError(rootCause(error));
  return mapped?.code === 'SERVICE_UNAVAILABLE' ? serviceUnavailable(mapped.message, error) : undefined;
}

/**
 * graphql-js wraps a thrown value that fails `instanceof Error` (e.g. a socket error from another
 * realm, as under jest) in a NonErrorThrown carrying it as `thrownValue`: look through it.
 */
function unwrapThrownValue(error: unknown): unknown {
  return error instanceof Error && error.name === 'NonErrorThrown' && 'thrownValue' in error
    ? (error as { thrownValue: unknown }).thrownValue
    : error;
}

function messageOf(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}

/** Database failures a client can act on; their driver text is never passed through. */
function mapDatabaseError(error: unknown): { code: ErrorCode; message: string } | undefined {
  const pgCode = error instanceof QueryFailedError ? (error.driverError as { code?: string }).code : (error as { code?: string })?.code;
  switch (pgCode) {
    case '23503':
      return { code: 'CONFLICT', message: 'The change conflicts with related records (a foreign key).' };
    case '23505':
      return { code: 'CONFLICT', message: 'A record with the same key already exists.' };
    case '40001':
    case '40P01':
      return { code: 'CONFLICT', message: 'The change collided with a concurrent one; retry it.' };
    case '57014':
      return { code: 'SERVICE_UNAVAILABLE', message: 'The database cancelled the statement (timeout); retry later.' };
    case '57P01':
    case '57P03':
    case '08000':
    case '08001':
    case '08003':
    case '08006':
    case 'ECONNREFUSED':
    case 'ECONNRESET':
    case 'ETIMEDOUT':
    case 'EPIPE':
      return { code: 'SERVICE_UNAVAILABLE', message: 'The database is unavailable; retry later.' };
  }
  if (error instanceof Error && /timeout exceeded when trying to connect|Connection terminated/i.test(error.message)) {
    return { code: 'SERVICE_UNAVAILABLE', message: 'The database is unavailable or saturated; retry later.' };
  }
  // The pool closed under a request (shutting down), and the Redis rate-limit store out of reach.
  if (
    error instanceof Error &&
    /Cannot use a pool after calling end|connection is not yet established|Connection pool has been closed|Client was closed and is not queryable/i.test(
      error.message,
    )
  ) {
    return { code: 'SERVICE_UNAVAILABLE', message: 'The service is shutting down; retry later.' };
  }
  if (
    error instanceof Error &&
    (error.name === 'MaxRetriesPerRequestError' || /^Connection is closed|Stream isn't writeable/.test(error.message))
  ) {
    return { code: 'SERVICE_UNAVAILABLE', message: 'The rate-limit store is unavailable; retry later.' };
  }
  return undefined;
}

export interface FieldError {
  field: string;
  messages: string[];
}

function flattenValidationErrors(errors: ValidationError[], prefix = ''): FieldError[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flattenValidationErrors(e.children ?? [], field)];
  });
}
