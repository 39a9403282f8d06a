import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { requestStats } from '../request';
import type { GraphQLEndpoint } from './graphql.endpoint';
import { setSecurityHeaders } from './guards';
import { httpErrorBody, sendJson, sendMethodNotAllowed, type Route } from './respond';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The gateway's HTTP layer on plain node:http (no framework: the drain in drain.ts needs the
 * sockets as they are, and it is faster; bench/README.md). In order: request id (X-Request-Id,
 * echoed or made), security headers, `/health`, the given routes (probes, IDE), `/graphql`
 * (graphql.endpoint.ts), and a JSON 404 for anything else.
 */
export function createHttpHandler(graphql: GraphQLEndpoint, config: Config, logger: Logger, routes: Route[] = []): RequestListener {
  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string, serverRequestId: string): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://gateway');
    } catch {
      sendJson(res, 400, httpErrorBody('The request URL is malformed', 'BAD_REQUEST'));
      return;
    }
    // Liveness: the process answers. Never touches the database (readiness is /ready).
    if (url.pathname === '/health') {
      if (req.method === 'GET' || req.method === 'HEAD') sendJson(res, 200, { status: 'ok' });
      else sendMethodNotAllowed(res, req.method, url.pathname, 'GET, HEAD');
      return;
    }
    for (const route of routes) if (await route(req, res, url)) return;
    if (url.pathname === '/graphql') {
      await graphql(req, res, url, requestId, serverRequestId);
      return;
    }
    sendJson(res, 404, httpErrorBody(`No route for ${req.method} ${url.pathname}; GraphQL is served at /graphql`, 'NOT_FOUND'));
  }

  return (req, res) => {
    const given = req.headers['x-request-id'];
    // A client's id (validated: 1 to 128 of [A-Za-z0-9_.:-], else ignored) is echoed and logged, but
    // clients choose it: the server's own id goes beside it into logs and audit rows.
    const serverRequestId = randomUUID();
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : serverRequestId;
    res.setHeader('X-Request-Id', requestId);
    if (config.security.securityHeaders) setSecurityHeaders(res, config.isProduction);
    requestStats.run({ requestId, sqlStatements: 0 }, () => {
      handle(req, res, requestId, serverRequestId).catch((error: unknown) => {
        const errorId = randomUUID();
        logger.error('unhandled HTTP error', { requestId, serverRequestId, errorId, error });
        if (res.headersSent) res.destroy();
        else
          sendJson(res, 500, {
            errors: [{ message: `Internal server error (error id ${errorId})`, extensions: { code: 'INTERNAL_SERVER_ERROR', errorId } }],
          });
      });
    });
  };
}
