import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a dashboard's script may send: the token, JSON, and the gateway's own request headers. */
const ALLOWED_HEADERS = 'Authorization, Content-Type, Accept, Idempotency-Key, X-Request-Id, Apollo-Require-Preflight';
/** What it may read besides the simple response headers. */
const EXPOSED_HEADERS = 'X-Request-Id, Retry-After';

/**
 * CORS for /graphql (CORS_ALLOWED_ORIGINS): a page from a listed origin gets
 * Access-Control-Allow-Origin (its own origin, never `*`) on every answer, and a preflight the
 * methods and headers it may use. Other origins get no Access-Control-Allow-* header at all, so
 * their pages cannot read an answer. No Access-Control-Allow-Credentials: the gateway takes bearer
 * tokens a script sets, never cookies, so a browser's ambient credentials are never honoured.
 * Returns the headers a preflight adds (undefined for other origins).
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowed: readonly string[]): Record<string, string> | undefined {
  if (allowed.length === 0) return undefined;
  // The answer depends on Origin: a cache must not hand one origin's answer to another.
  res.setHeader('Vary', 'Origin');
  const origin = req.headers.origin;
  if (origin === undefined || !allowed.includes(origin)) return undefined;
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
  return {
    'Access-Control-Allow-Methods': 'GET, POST',
    'Access-Control-Allow-Headers': ALLOWED_HEADERS,
    'Access-Control-Max-Age': '600',
  };
}

/** Sets a response header Apollo gave, keeping the Vary: Origin CORS set beside Apollo's own Vary. */
export function setKeepingVary(res: ServerResponse, name: string, value: string): void {
  const current = res.getHeader('vary');
  if (name.toLowerCase() === 'vary' && typeof current === 'string') res.setHeader('Vary', `${current}, ${value}`);
  else res.setHeader(name, value);
}
