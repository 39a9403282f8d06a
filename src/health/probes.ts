import { sendJson, sendMethodNotAllowed, sendText, type Route } from '../http-kit';
import type { Logger } from '../logger';
import type { GatewayMetrics } from './gateway-metrics';
import type { PoolHealthService } from './pool-health.service';

/**
 * Probes beside /graphql (`/health`, liveness without a database call, is in http.ts):
 * `/ready` — 200 `{ status: "ready" }`, or 503 `{ status: "not ready", reason }` with a short
 * reason code (`shutting_down`, `database_unreachable`, `connections_exhausted`,
 * `migrations_pending`, `migrations_unknown`). Anyone may call it, so the details (driver text,
 * host, pending migration names) go to the log and to `poolHealth`, never into this body.
 * `/metrics` — Prometheus text format.
 */
export function createProbeRoute(health: PoolHealthService, metrics: GatewayMetrics, logger: Logger, isDraining: () => boolean): Route {
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
      sendText(res, 200, metrics.contentType, await metrics.metrics(), { 'Cache-Control': 'no-store' });
      return true;
    }
    return false;
  };
}
