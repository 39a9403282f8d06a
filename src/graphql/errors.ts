import { randomUUID } from 'node:crypto';
import { unwrapResolverError } from '@apollo/server/errors';
import type { ValidationError } from 'class-validator';
import { GraphQLError, type ASTNode, type GraphQLFormattedError } from 'graphql';
import { ArgumentValidationError } from 'type-graphql';
import { domainError, type ErrorCode } from '../errors';
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

    if (original instanceof ArgumentValidationError) {
      const fields = flattenValidationErrors(original.extensions.validationErrors);
      return {
        ...base,
        message: fields.map((f) => `${f.field}: ${f.messages.join('; ')}`).join('. '),
        extensions: { code: 'BAD_USER_INPUT', fields },
      };
    }
    const domain = domainError(original);
    if (domain) return { ...base, message: domain.message, extensions: { code: domain.code, ...domain.details } };

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

/**
 * The one way to build a GraphQLError the API answers: a code of ErrorCode, the client-safe
 * details beside it in `extensions`, and for errors raised before execution the HTTP status (and
 * headers) Apollo answers with.
 */
export function apiError(
  code: ErrorCode,
  message: string,
  options: { details?: Record<string, unknown>; status?: number; headers?: Record<string, string>; nodes?: ASTNode; cause?: unknown } = {},
): GraphQLError {
  const { details, status, headers, nodes, cause } = options;
  const http = status === undefined ? {} : { http: { status, ...(headers ? { headers: new Map(Object.entries(headers)) } : {}) } };
  return new GraphQLError(message, {
    nodes,
    originalError: cause instanceof Error ? cause : undefined,
    extensions: { code, ...details, ...http },
  });
}

/**
 * A GraphQL error that only looks like one (graphql-jit's: no `extensions` object when the thrown
 * error has none) rebuilt as a real GraphQLError: same message, path, locations, original error.
 */
export function realGraphQLError(e: GraphQLError): GraphQLError {
  const error = new GraphQLError(e.message, { path: e.path, originalError: e.originalError ?? undefined, extensions: e.extensions });
  (error as { locations?: GraphQLError['locations'] }).locations = e.locations;
  return error;
}

/** The one outage answer: HTTP 503, Retry-After, SERVICE_UNAVAILABLE, a message naming no host, port, driver or SQL. */
export function serviceUnavailable(message = 'The database is unavailable; retry later.', cause?: unknown): GraphQLError {
  return apiError('SERVICE_UNAVAILABLE', message, { status: 503, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) }, cause });
}

/**
 * The outage form of a thrown value (database or Redis unreachable, shutting down, pool wait
 * exhausted, pool already closed), or undefined when it is something else.
 */
export function asOutage(error: unknown): GraphQLError | undefined {
  if (error instanceof GraphQLError && error.extensions?.code === 'SERVICE_UNAVAILABLE') return error;
  const domain = domainError(rootCause(error));
  return domain?.code === 'SERVICE_UNAVAILABLE' ? serviceUnavailable(domain.message, error) : undefined;
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
