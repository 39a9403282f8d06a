import type { Duplex } from 'node:stream';
import { CloseCode } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Config } from '../config';
import type { HttpRequest } from '../http/respond';
import type { Logger } from '../logger';

/**
 * The HTTP upgrade to a WebSocket on `path`: refused with 503 while draining, and with 403 for a
 * browser page from an origin not allowed. Never the request's own Host: under DNS rebinding,
 * Origin and Host both carry the attacker's name. Allowed: the configured origins
 * (SUBSCRIPTION_ALLOWED_ORIGINS and the dashboards of CORS_ALLOWED_ORIGINS), the tunnel's public
 * hostname, and loopback pages (the IDE on this machine).
 */
export function createUpgradeHandler(
  config: Config,
  logger: Logger,
  wss: WebSocketServer,
  path: string,
  draining: () => boolean,
): (request: HttpRequest, socket: Duplex, head: Buffer) => void {
  const allowed = new Set([...config.subscriptions.allowedOrigins, ...config.security.corsAllowedOrigins]);
  if (config.tunnel.enabled) allowed.add(`https://${config.tunnel.subdomain}.${config.tunnel.domain}`);
  const allowedOrigin = (request: HttpRequest): boolean => {
    const origin = request.headers.origin;
    if (!origin) return true; // not a browser: tokens, not cookies, protect the socket
    return allowed.has(origin) || isLoopbackOrigin(origin);
  };
  return (request, socket, head) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (draining()) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!allowedOrigin(request)) {
      logger.warn('subscriptions: WebSocket refused, origin not allowed', { origin: request.headers.origin });
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  };
}

/**
 * graphql-ws writes a socket's error to console.error with its stack (14 lines in a JSON log), and
 * a frame over maxPayload is one: a client's mistake, not ours. One log line instead; ws has
 * already closed such a socket with 1009 (message too big).
 */
export function logSocketErrors(wss: WebSocketServer, logger: Logger, maxPayload: number): void {
  wss.on('connection', (socket: WebSocket) => {
    socket.removeAllListeners('error');
    socket.once('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        logger.warn('subscriptions: WebSocket frame over the size limit, socket closed (1009)', { limit: maxPayload });
        return;
      }
      logger.warn('subscriptions: WebSocket error, socket closed', { error: error.message, code: error.code });
      if (socket.readyState === socket.OPEN) socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
  });
}

/** http(s)://localhost, 127.x.x.x or [::1], any port: a page served on this machine. */
function isLoopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);
  } catch {
    return false;
  }
}
