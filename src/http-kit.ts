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
/** The body would take the bytes in flight past their cap (HTTP_BODY_BYTES_IN_FLIGHT): not one byte of it was kept. */
export class BodyBudgetError extends Error {}

/**
 * Request body bytes buffered at once across every request of one server, against one cap: a body
 * reserves its Content-Length before a byte of it is read (a chunked one, chunk by chunk) and
 * gives it back once it is parsed or refused, so strangers cannot hold more than the cap between them.
 */
export class BodyBudget {
  private used = 0;
  constructor(readonly limit: number) {}

  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }

  get inUse(): number {
    return this.used;
  }
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

/**
 * Reads the whole body, refusing it once it exceeds `limit` bytes (the rest is drained, not read
 * into memory) or when `budget` cannot hold it (nothing read: the caller answers 503).
 */
export function readBody(req: IncomingMessage, limit: number, budget: BodyBudget): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const sized = req.headers['content-length'] !== undefined && Number.isFinite(declared);
    if (sized && declared > limit) {
      req.resume();
      reject(new BodyTooLargeError());
      return;
    }
    let reserved = 0;
    if (sized) {
      if (!budget.take(declared)) {
        reject(new BodyBudgetError());
        return;
      }
      reserved = declared;
    }
    const release = () => {
      budget.give(reserved);
      reserved = 0;
    };
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    const refuse = (error: Error) => {
      refused = true;
      chunks.length = 0;
      release();
      reject(error);
    };
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > limit) return refuse(new BodyTooLargeError());
      if (size > reserved) {
        if (!budget.take(size - reserved)) return refuse(new BodyBudgetError());
        reserved = size;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (refused) return;
      const body = Buffer.concat(chunks);
      release();
      resolve(body);
    });
    req.once('close', () => {
      if (!refused && !req.complete) refuse(new ClientGoneError('the connection closed before the body arrived'));
    });
    req.once('error', (error: NodeJS.ErrnoException) => {
      if (!refused) refuse(error.code === 'ECONNRESET' ? new ClientGoneError(error.message) : error);
    });
  });
}
