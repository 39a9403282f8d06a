import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import helmet from 'helmet';
import { httpErrorBody } from './respond';
import { jsonDepthExceeds } from '../security/limit.rules';

/**
 * Whether a request body (or GET variables) is nested deeper than `maxDepth` below the GraphQL
 * envelope; checked without recursion, before Apollo or a resolver walks it recursively.
 */
export function jsonTooDeep(body: unknown, getVariables: string | null, maxDepth: number): boolean {
  // The envelope adds levels: [batch] -> { variables } -> { name: value }.
  if (body !== undefined && jsonDepthExceeds(body, maxDepth + 3)) return true;
  if (typeof getVariables === 'string') {
    try {
      return jsonDepthExceeds(JSON.parse(getVariables), maxDepth + 1);
    } catch {
      // Apollo reports unparsable variables itself
    }
  }
  return false;
}

/**
 * Headers for an API that browsers should never frame, sniff or cache with credentials: helmet's
 * defaults (kept current by its maintainers), with the CSP for an API that serves no page (nothing
 * loads, nothing frames it; the IDE sets its own) and HSTS only in production (development runs on
 * plain http://localhost).
 */
const apiHeaders = (isProduction: boolean) =>
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    xFrameOptions: { action: 'deny' },
    strictTransportSecurity: isProduction,
  });

/**
 * The headers helmet sets, worked out once: with no directive given as a function they do not
 * depend on the request, and running helmet's middleware chain on every response is measurable
 * on short requests (bench/RESULTS.md, round 8).
 */
function fixedHeaders(isProduction: boolean): [string, string][] {
  const headers: [string, string][] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.push([name, String(value)]);
    },
    removeHeader() {}, // X-Powered-By: node:http never sets it
  };
  apiHeaders(isProduction)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  return headers;
}
const productionHeaders = fixedHeaders(true);
const developmentHeaders = fixedHeaders(false);

export function setSecurityHeaders(res: ServerResponse, isProduction: boolean): void {
  for (const [name, value] of isProduction ? productionHeaders : developmentHeaders) res.setHeader(name, value);
}

/**
 * Requests Node refuses before the gateway sees them (headers over the size limit, malformed request
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
