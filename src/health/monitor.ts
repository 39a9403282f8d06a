import type { Logger } from '../logger';
import type { MetricService, SystemSample as Sample } from '../metrics/metric.service';
import type { GatewayMetrics, GatewayWindow } from './prometheus';
import type { HealthConfig } from '../config';
import type { PoolHealthService } from './pool-health.service';
import { HealthStatus, type PoolHealth } from './pool-health.types';

/** The rows one health sample writes to system_metrics (category `database`). */
export function databaseSamples(health: PoolHealth): Sample[] {
  const { pool, database } = health;
  const rows: [string, number | null, string | null][] = [
    ['db_connected', database.connected ? 1 : 0, null],
    ['db_response_time_ms', database.responseTimeMs, 'ms'],
    ['db_pool_total', pool.total, 'connections'],
    ['db_pool_idle', pool.idle, 'connections'],
    ['db_pool_active', pool.active, 'connections'],
    ['db_pool_waiting', pool.waiting, 'requests'],
    ['db_pool_utilization', pool.utilizationPercent, 'percent'],
    ['db_connections', database.connections, 'connections'],
    ['db_size_bytes', database.sizeBytes, 'bytes'],
    ['db_cache_hit_ratio', database.cacheHitRatio, 'ratio'],
    ['db_deadlocks', database.deadlocks, 'count'],
    ['db_longest_query_seconds', database.longestQuerySeconds, 'seconds'],
  ];
  return rows
    .filter(([, value]) => value !== null)
    .map(([name, value, unit]) => ({ category: 'database', name, value: value as number, unit }));
}

/** The rows one performance sample writes (category `gateway`). */
export function gatewaySamples(w: GatewayWindow): Sample[] {
  return [
    { category: 'gateway', name: 'gateway_requests_per_second', value: w.requestsPerSecond, unit: 'req/s' },
    { category: 'gateway', name: 'gateway_p95_latency_ms', value: w.p95LatencyMs, unit: 'ms' },
    { category: 'gateway', name: 'gateway_error_rate', value: w.errorRatePercent, unit: 'percent' },
  ];
}

/**
 * Samples database health and the gateway's own figures on two intervals, writes them to
 * system_metrics (so that metric queries can chart them), logs a warning when a threshold is crossed
 * and an info line when it recovers. A tick still running when the next is due makes that one skip:
 * samples never overlap or pile up.
 */
export class HealthMonitor {
  private timers: NodeJS.Timeout[] = [];
  private running = new Map<string, Promise<void>>();
  /** Alerts now raised, by name, with their message. */
  private readonly raised = new Map<string, string>();
  private stopped = false;

  constructor(
    private readonly config: HealthConfig,
    private readonly health: PoolHealthService,
    private readonly metrics: GatewayMetrics,
    /** Where the samples go: through the metrics feature, like every other system_metrics row. */
    private readonly store: MetricService,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (!this.config.monitorEnabled) return;
    void this.metrics.takeWindow(); // the first performance window starts now (synchronously)
    // tick never rejects: a failed sample is logged there.
    this.timers.push(setInterval(() => void this.tick('health', () => this.sampleHealth()), this.config.checkIntervalMs));
    this.timers.push(setInterval(() => void this.tick('performance', () => this.samplePerformance()), this.config.performanceIntervalMs));
    for (const timer of this.timers) timer.unref();
    this.logger.info('health monitor started', {
      checkIntervalMs: this.config.checkIntervalMs,
      performanceIntervalMs: this.config.performanceIntervalMs,
    });
  }

  /** Stops the timers and waits for a sample in progress (each is bounded by its deadlines). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await Promise.allSettled([...this.running.values()]);
  }

  /** Runs one sample unless the previous one of the same kind is still running. */
  tick(kind: string, sample: () => Promise<void>): Promise<void> {
    if (this.stopped) return Promise.resolve();
    const previous = this.running.get(kind);
    if (previous) {
      this.logger.debug(`health monitor: ${kind} sample still running, skipping this tick`);
      return previous;
    }
    const run = sample()
      .catch((error) => {
        this.logger.warn(`health monitor: ${kind} sample failed`, { error: String(error) });
      })
      .finally(() => this.running.delete(kind));
    this.running.set(kind, run);
    return run;
  }

  async sampleHealth(): Promise<void> {
    const health = await this.health.check();
    const { thresholds } = this.config;
    this.alert('database_unreachable', !health.database.connected, health.reasons[0] ?? 'database unreachable');
    this.alert(
      'database_response_time',
      health.database.responseTimeMs !== null && health.database.responseTimeMs > thresholds.responseTimeMs,
      `database response time ${health.database.responseTimeMs} ms is over ${thresholds.responseTimeMs} ms`,
    );
    this.alert(
      'pool_utilization',
      health.pool.utilizationPercent > thresholds.poolUtilizationPercent,
      `pool utilisation ${health.pool.utilizationPercent}% is over ${thresholds.poolUtilizationPercent}%`,
    );
    if (health.status !== HealthStatus.UNHEALTHY) await this.write(databaseSamples(health));
  }

  async samplePerformance(): Promise<void> {
    const window = await this.metrics.takeWindow();
    this.alert(
      'error_rate',
      window.requests > 0 && window.errorRatePercent > this.config.thresholds.errorRatePercent,
      `error rate ${window.errorRatePercent}% (${window.errors} of ${window.requests} requests) is over ${this.config.thresholds.errorRatePercent}%`,
    );
    await this.write(gatewaySamples(window));
  }

  private alert(name: string, crossed: boolean, message: string): void {
    const was = this.raised.get(name);
    if (crossed && was === undefined) {
      this.raised.set(name, message);
      this.logger.warn(`health alert: ${message}`, { alert: name });
    } else if (!crossed && was !== undefined) {
      this.raised.delete(name);
      this.logger.info(`health recovered: ${name} back within its threshold`, { alert: name, was });
    }
  }

  private write(samples: Sample[]): Promise<void> {
    return this.store.recordSystemSamples(samples, { source: 'health-monitor' });
  }
}
