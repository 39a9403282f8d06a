import type { IncomingMessage, ServerResponse } from 'node:http';
import Negotiator from 'negotiator';

/**
 * Answers, on plain node:http: the little the gateway needs from an HTTP framework, on plain node:http: a route answers a
 * request (and returns true) or leaves it to the next one (false).
 */
export type Route = (req: HttpRequest, res: HttpResponse, url: URL) => boolean | Promise<boolean>;

/** node:http's request and response, named here so that routes outside src/http/ need not import node:http. */
export type HttpRequest = IncomingMessage;
export type HttpResponse = ServerResponse;

/** The body for requests refused before GraphQL runs (bad JSON, wrong content type, too large): GraphQL's error shape. */
export function httpErrorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** 405 for a path that exists but not with this method, naming the methods it takes (`Allow`). */
export function sendMethodNotAllowed(res: ServerResponse, method: string | undefined, path: string, allow: string): void {
  sendJson(res, 405, httpErrorBody(`${path} takes ${allow}, not ${method}`, 'BAD_REQUEST'), { Allow: allow });
}

export function sendText(
  res: ServerResponse,
  status: number,
  contentType: string,
  text: string | Buffer,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** The media type the client prefers among `offered` (Accept negotiation, as Express's req.accepts). */
export function preferredType(req: IncomingMessage, offered: string[]): string | undefined {
  return new Negotiator({ headers: { accept: req.headers.accept ?? '*/*' } }).mediaType(offered);
}

/** How long a refused socket may still drain what its client is sending before it is destroyed (so the answer is read, not reset). */
const LINGER_MS = 1_000;

/**
 * Answers a request whose body is not read (401, 503 over budget) and closes its socket: once the
 * answer is sent the socket stops reading (what the client still sends stays in the kernel, is
 * neither buffered nor parsed here), and after LINGER_MS, time for the client to read the answer,
 * it is destroyed whether or not the client has stopped sending.
 */
export function refuseAndClose(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const socket = res.req.socket;
  sendJson(res, status, body, { ...headers, Connection: 'close' });
  res.once('finish', () => {
    socket.pause();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  });
}
