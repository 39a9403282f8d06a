import { bool, ConfigError, int, type Env } from '../config';

/** The health monitor, the readiness deadline and the alert thresholds (defaults: the original design's). */
export interface HealthConfig {
  /** Run the background monitor (writes samples to system_metrics, logs threshold crossings). */
  monitorEnabled: boolean;
  /** ms between database health samples. */
  checkIntervalMs: number;
  /** ms between gateway performance samples (requests/s, p95 latency, error rate). */
  performanceIntervalMs: number;
  /** ms a health check (poolHealth, /ready, the monitor) waits for the database before calling it down. */
  checkTimeoutMs: number;
  thresholds: HealthThresholds;
}

export interface HealthThresholds {
  /** `SELECT 1` slower than this (ms) degrades the status. */
  responseTimeMs: number;
  /** Pool connections in use over this share of the pool's maximum (%) degrades the status. */
  poolUtilizationPercent: number;
  /** Requests failing on the server's side (INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE) over this share (%). */
  errorRatePercent: number;
}

export function healthConfig(env: Env): HealthConfig {
  const checkTimeoutMs = int(env, 'HEALTH_CHECK_TIMEOUT_MS', 800, 50, 60_000);
  const checkIntervalMs = int(env, 'HEALTH_CHECK_INTERVAL_MS', 30_000, 100, 86_400_000);
  if (checkTimeoutMs >= checkIntervalMs) {
    throw new ConfigError('HEALTH_CHECK_TIMEOUT_MS', `must be shorter than HEALTH_CHECK_INTERVAL_MS (${checkTimeoutMs} >= ${checkIntervalMs})`);
  }
  return {
    monitorEnabled: bool(env, 'HEALTH_MONITOR_ENABLED', true),
    checkIntervalMs,
    performanceIntervalMs: int(env, 'HEALTH_PERFORMANCE_INTERVAL_MS', 60_000, 100, 86_400_000),
    checkTimeoutMs,
    thresholds: {
      responseTimeMs: int(env, 'HEALTH_RESPONSE_TIME_THRESHOLD_MS', 1_000, 1, 600_000),
      poolUtilizationPercent: int(env, 'HEALTH_POOL_UTILIZATION_THRESHOLD', 80, 1, 100),
      errorRatePercent: int(env, 'HEALTH_ERROR_RATE_THRESHOLD', 5, 0, 100),
    },
  };
}
