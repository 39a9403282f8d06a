import type { IncomingMessage } from 'node:http';

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
