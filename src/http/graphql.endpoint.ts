import type { IncomingMessage, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Principal } from '../auth/principal';
import type { Config } from '../config';
import type { Context } from '../graphql/context';
import type { GatewayServices } from '../graphql/features';
import { asOutage, errorCode, RETRY_AFTER_SECONDS } from '../graphql/errors';
import type { Logger } from '../logger';
import type { OperationPipeline } from '../security/pipeline';
import type { Security } from '../security/security';
import { BodyBudget, BodyBudgetError, BodyTooLargeError, ClientGoneError, contentType, readBody } from './body';
import { applyCors, setKeepingVary } from './cors';
import { jsonTooDeep } from './guards';
import { httpErrorBody, refuseAndClose, sendJson, sendMethodNotAllowed } from './respond';

const JSON_TYPES = ['application/json', 'application/graphql-response+json'];
const GRAPHQL_METHODS = 'GET, POST, OPTIONS';

/** Codes of a well-formed request whose document or variables GraphQL refused (before execution). */
const DOCUMENT_ERRORS = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT']);

/**
 * The GraphQL-over-HTTP watershed: a client that asks for `application/json` by name (the legacy
 * media type) gets parse, validation and variable-coercion failures with HTTP 200, as the spec
 * asks; `application/graphql-response+json`, and clients that accept anything (any type, no
 * Accept), keep Apollo's 4xx, which proxies and probes can see. Other 4xx (a malformed request,
 * OPERATION_RESOLUTION_FAILURE, 401, 429) and 503 stay as they are.
 */
function legacyStatus(req: IncomingMessage, status: number, type: string | undefined, body: { kind: string; string?: string }): number {
  if (status !== 400 || body.kind !== 'complete' || !type?.startsWith('application/json')) return status;
  const accept = req.headers.accept ?? '';
  if (!/\bapplication\/json\b/i.test(accept) || /application\/graphql-response\+json/i.test(accept)) return status;
  try {
    const parsed = JSON.parse(body.string as string) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
    const refused =
      parsed.data === undefined && parsed.errors?.length && parsed.errors.every((e) => DOCUMENT_ERRORS.has(String(e.extensions?.code)));
    return refused ? 200 : status;
  } catch {
    return status;
  }
}

export type GraphQLEndpoint = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  requestId: string,
  serverRequestId: string,
) => Promise<void>;

/**
 * `/graphql`: JSON-only POST or GET, authentication from the headers, body limit and bytes-in-flight
 * budget, JSON depth guard, then Apollo. A request refused because the token store is unreachable
 * is reported as an outage the one way the gateway has: `services.health.noteUnavailable()` (as the
 * outage plugin does for answers carrying SERVICE_UNAVAILABLE).
 */
export function createGraphQLEndpoint(
  apollo: ApolloServer<Context>,
  services: GatewayServices,
  config: Config,
  logger: Logger,
  security: Security,
  pipeline: OperationPipeline,
): GraphQLEndpoint {
  const budget = new BodyBudget(config.http.bodyBytesInFlight);

  /**
   * Who is calling, from the headers alone, before a byte of the body is read. A refusal
   * (UNAUTHENTICATED) is answered here; another failure (the token store unreachable) is handed
   * on to Apollo's context, which answers it as it always has.
   */
  async function principalOf(req: IncomingMessage, requestId: string): Promise<{ principal: Principal } | { failure: Error }> {
    try {
      return { principal: await security.authenticator.authenticate(req.headers.authorization) };
    } catch (error) {
      const outage = asOutage(error);
      if (outage) services.health.noteUnavailable();
      logger.warn('authentication refused', { requestId, reason: (error as Error).message, ip: req.socket.remoteAddress });
      return { failure: outage ?? (error as Error) };
    }
  }

  return async function graphql(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    requestId: string,
    serverRequestId: string,
  ): Promise<void> {
    // Answers depend on the token: no shared cache may keep them.
    res.setHeader('Cache-Control', 'no-store');
    const preflight = applyCors(req, res, config.security.corsAllowedOrigins);
    // Apollo's CSRF check runs before its method check, so other methods would hear about CSRF.
    // A CORS preflight from an origin not in CORS_ALLOWED_ORIGINS gets the methods and no
    // Access-Control-Allow-* header: other origins stay out.
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { Allow: GRAPHQL_METHODS, ...preflight });
      res.end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'POST') {
      sendMethodNotAllowed(res, req.method, url.pathname, GRAPHQL_METHODS);
      return;
    }
    const caller = await principalOf(req, requestId);
    if ('failure' in caller && caller.failure instanceof GraphQLError && errorCode(caller.failure) === 'UNAUTHENTICATED') {
      // The body is never read: a stranger's bytes stay in the kernel, then the socket closes.
      refuseAndClose(res, 401, httpErrorBody(caller.failure.message, 'UNAUTHENTICATED'), { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    let body: unknown;
    if (req.method === 'POST') {
      const { type, charset } = contentType(req);
      if (!JSON_TYPES.includes(type)) {
        sendJson(res, 415, httpErrorBody('POST /graphql takes a JSON body: set Content-Type: application/json', 'BAD_REQUEST'));
        return;
      }
      if (charset && charset !== 'utf-8' && charset !== 'utf8') {
        sendJson(res, 415, httpErrorBody(`Unsupported charset "${charset.toUpperCase()}": send UTF-8`, 'BAD_REQUEST'));
        return;
      }
      let raw: Buffer;
      try {
        raw = await readBody(req, config.graphql.bodyLimitBytes, budget);
      } catch (error) {
        if (error instanceof BodyBudgetError) {
          logger.warn('request body refused: bytes in flight at HTTP_BODY_BYTES_IN_FLIGHT', { requestId, inFlight: budget.inUse });
          refuseAndClose(
            res,
            503,
            httpErrorBody('The server is receiving too many request bodies at once; retry later', 'SERVICE_UNAVAILABLE'),
            { 'Retry-After': String(RETRY_AFTER_SECONDS) },
          );
          return;
        }
        if (error instanceof ClientGoneError) {
          // Not a server error: the request never finished arriving.
          logger.info('client left before its request body arrived', { requestId, ip: req.socket.remoteAddress });
          return;
        }
        if (!(error instanceof BodyTooLargeError)) throw error;
        sendJson(res, 413, httpErrorBody(`The request body is larger than ${config.graphql.bodyLimitBytes} bytes`, 'PAYLOAD_TOO_LARGE'), {
          Connection: 'close',
        });
        return;
      }
      const text = raw.toString('utf8');
      try {
        body = JSON.parse(text);
      } catch {
        // An empty body is an empty request (Apollo says what it lacks); only then is it worth a trim.
        if (text.trim() !== '') {
          sendJson(res, 400, httpErrorBody('The request body is not valid JSON', 'BAD_REQUEST'));
          return;
        }
        body = {};
      }
    }
    if (jsonTooDeep(body, req.method === 'GET' ? url.searchParams.get('variables') : null, config.security.limits.maxJsonDepth)) {
      sendJson(
        res,
        400,
        httpErrorBody(`A JSON value in the request is nested deeper than ${config.security.limits.maxJsonDepth} levels`, 'BAD_REQUEST'),
      );
      return;
    }
    const headers = new HeaderMap();
    for (const name in req.headers) {
      const value = req.headers[name];
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    // Apollo picks the response type with a full Accept negotiation on every request; for the two
    // values whose answer is its default (application/json), no Accept gives the same answer for less.
    const accept = headers.get('accept');
    if (accept === 'application/json' || accept === '*/*') headers.delete('accept');
    const httpGraphQLRequest: HTTPGraphQLRequest = { method: (req.method ?? 'GET').toUpperCase(), headers, search: url.search, body };
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest,
      // Authentication happens here, once per request: the principal is in the context (ctx.principal).
      context: async () => {
        if ('failure' in caller) throw caller.failure;
        return pipeline.context(caller.principal, requestId, headers.get('idempotency-key'), serverRequestId);
      },
    });
    res.statusCode = legacyStatus(req, response.status ?? 200, response.headers.get('content-type'), response.body);
    for (const [name, value] of response.headers) setKeepingVary(res, name, value);
    if (response.body.kind === 'complete') {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}
