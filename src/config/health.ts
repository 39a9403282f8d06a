import type { Reader } from './reader';
import { ConfigError } from './variable';

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

export function healthConfig(r: Reader): HealthConfig {
  const checkTimeoutMs = r.int('HEALTH_CHECK_TIMEOUT_MS');
  const checkIntervalMs = r.int('HEALTH_CHECK_INTERVAL_MS');
  if (checkTimeoutMs >= checkIntervalMs) {
    throw new ConfigError(
      'HEALTH_CHECK_TIMEOUT_MS',
      `must be shorter than HEALTH_CHECK_INTERVAL_MS (${checkTimeoutMs} >= ${checkIntervalMs})`,
    );
  }
  return {
    monitorEnabled: r.bool('HEALTH_MONITOR_ENABLED'),
    checkIntervalMs,
    performanceIntervalMs: r.int('HEALTH_PERFORMANCE_INTERVAL_MS'),
    checkTimeoutMs,
    thresholds: {
      responseTimeMs: r.int('HEALTH_RESPONSE_TIME_THRESHOLD_MS'),
      poolUtilizationPercent: r.int('HEALTH_POOL_UTILIZATION_THRESHOLD'),
      errorRatePercent: r.int('HEALTH_ERROR_RATE_THRESHOLD'),
    },
  };
}
