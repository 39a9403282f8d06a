import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { RequestHandler } from 'express';
import { httpErrorBody } from '../graphql/errors';
import { jsonDepthExceeds } from './limit.rules';

/**
 * Refuses request bodies (and GET variables) nested deeper than `maxDepth` below the GraphQL
 * envelope, before Apollo or a resolver walks them recursively. Checked without recursion.
 */
export function limitJsonDepth(maxDepth: number): RequestHandler {
  // The envelope adds levels: [batch] -> { variables } -> { name: value }.
  const allowed = maxDepth + 3;
  return (req, res, next) => {
    let tooDeep = req.body !== undefined && jsonDepthExceeds(req.body, allowed);
    const getVariables = req.method === 'GET' ? req.query?.variables : undefined;
    if (!tooDeep && typeof getVariables === 'string') {
      try {
        tooDeep = jsonDepthExceeds(JSON.parse(getVariables), maxDepth + 1);
      } catch {
        // Apollo reports unparsable variables itself
      }
    }
    if (tooDeep) {
      res.status(400).json(httpErrorBody(`A JSON value in the request is nested deeper than ${maxDepth} levels`, 'BAD_REQUEST'));
      return;
    }
    next();
  };
}

/** Headers for an API that browsers should never frame, sniff or cache with credentials. */
export function securityHeaders(isProduction: boolean): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('X-DNS-Prefetch-Control', 'off');
    if (!res.getHeader('Content-Security-Policy')) res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
    if (isProduction) res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    next();
  };
}

/**
 * Requests Node refuses before Express sees them (headers over the size limit, malformed request
 * lines) still get a JSON GraphQL error body instead of a bare status line.
 */
export function answerClientErrorsWithJson(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || (error.code === 'ECONNRESET' && !socket.readable)) {
      socket.destroy();
      return;
    }
    const [status, reason, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'Request Header Fields Too Large', 'The request headers are too large']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'Request Timeout', 'The request took too long to arrive']
          : [400, 'Bad Request', 'The HTTP request is malformed'];
    const body = JSON.stringify(httpErrorBody(message, status === 431 ? 'REQUEST_HEADER_FIELDS_TOO_LARGE' : 'BAD_REQUEST'));
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

