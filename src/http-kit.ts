import type { IncomingMessage, ServerResponse } from 'node:http';
import Negotiator from 'negotiator';

/**
 * The little the gateway needs from an HTTP framework, on plain node:http: a route answers a
 * request (and returns true) or leaves it to the next one (false).
 */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

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

/** The media type of the body, without parameters, lower case. */
export function contentType(req: IncomingMessage): { type: string; charset?: string } {
  const [type, ...params] = (req.headers['content-type'] ?? '').split(';');
  const charset = params
    .map((p) => p.trim().toLowerCase())
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  return { type: type.trim().toLowerCase(), charset };
}

export class BodyTooLargeError extends Error {}
/** The client closed the connection before its body arrived: nobody is left to answer. */
export class ClientGoneError extends Error {}

/** Reads the whole body, refusing it once it exceeds `limit` bytes (the rest is drained, not read into memory). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) {
        refused = true;
        chunks.length = 0;
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (!refused) resolve(Buffer.concat(chunks));
    });
    req.once('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ECONNRESET' ? new ClientGoneError(error.message) : error));
  });
}
