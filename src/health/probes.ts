import { Router } from 'express';
import type { Logger } from '../logger';
import type { GatewayMetrics } from './gateway-metrics';
import type { PoolHealthService } from './pool-health.service';

/**
 * Probes beside /graphql. `/health` (liveness, no database call) stays in http.ts; here:
 * `/ready` — 200 when the database answers within its deadline and no migration is pending, else 503
 * with a JSON body naming the failing checks; `/metrics` — Prometheus text format.
 */
export function createProbeRouter(health: PoolHealthService, metrics: GatewayMetrics, logger: Logger): Router {
  const router = Router();

  router.get('/ready', async (_req, res) => {
    const readiness = await health.readiness();
    res.setHeader('Cache-Control', 'no-store');
    if (!readiness.ready) logger.debug('readiness check failed', { failing: readiness.failing });
    res.status(readiness.ready ? 200 : 503).json({ status: readiness.ready ? 'ready' : 'not ready', ...readiness });
  });

  router.get('/metrics', async (_req, res) => {
    const text = await metrics.metrics();
    res.setHeader('Content-Type', metrics.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(text);
  });

  return router;
}
