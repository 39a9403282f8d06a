import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecurityConfig } from '../config';
import { httpErrorBody, sendJson, sendMethodNotAllowed, sendText, type HttpRequest, type Route } from '../http/respond';
import type { Logger } from '../logger';
import type { GatewayMetrics } from './prometheus';
import type { PoolHealthService } from './pool-health.service';

/**
 * Probes beside /graphql (`/health`, liveness without a database call, is in http.ts):
 * `/ready` — 200 `{ status: "ready" }`, or 503 `{ status: "not ready", reason }` with a short
 * reason code (`shutting_down`, `database_unreachable`, `connections_exhausted`,
 * `migrations_pending`, `migrations_unknown`). Anyone may call it, so the details (driver text,
 * host, pending migration names) go to the log and to `poolHealth`, never into this body.
 * `/metrics` — Prometheus text format, behind METRICS_TOKEN (security.metrics).
 */
export function createProbeRoute(
  health: PoolHealthService,
  metrics: GatewayMetrics,
  logger: Logger,
  isDraining: () => boolean,
  access: SecurityConfig['metrics'],
): Route {
  let lastReason: string | undefined;
  return async (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (url.pathname !== '/ready' && url.pathname !== '/metrics') return false;
      sendMethodNotAllowed(res, req.method, url.pathname, 'GET, HEAD');
      return true;
    }
    if (url.pathname === '/ready') {
      const readiness = isDraining() ? { ready: false, reason: 'shutting_down', detail: {} } : await health.readiness();
      if (readiness.reason !== lastReason) {
        if (readiness.ready) logger.info('ready');
        else logger.warn(`not ready: ${readiness.reason}`, { reason: readiness.reason, detail: readiness.detail });
        lastReason = readiness.reason;
      }
      sendJson(
        res,
        readiness.ready ? 200 : 503,
        readiness.ready ? { status: 'ready' } : { status: 'not ready', reason: readiness.reason },
        { 'Cache-Control': 'no-store' },
      );
      return true;
    }
    if (url.pathname === '/metrics') {
      if (!access.open && !hasToken(req, access.token)) {
        const message = access.token
          ? 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>'
          : 'GET /metrics is closed in production until METRICS_TOKEN is set';
        sendJson(res, 401, httpErrorBody(message, 'UNAUTHENTICATED'), { 'WWW-Authenticate': 'Bearer', 'Cache-Control': 'no-store' });
        return true;
      }
      sendText(res, 200, metrics.contentType, await metrics.metrics(), { 'Cache-Control': 'no-store' });
      return true;
    }
    return false;
  };
}

/** Compared as SHA-256 digests in constant time: neither the length nor a prefix of the token leaks. */
function hasToken(req: HttpRequest, token: string | undefined): boolean {
  if (!token) return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!match) return false;
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(match[1]), digest(token));
}
