import type { Reader } from './reader';

/** What the retention job keeps, and how often it runs (src/retention/). */
export interface RetentionConfig {
  enabled: boolean;
  intervalMs: number;
  /** Days of raw samples (system_metrics partitions). */
  metricsDays: number;
  /** Daily partitions created ahead of today. */
  partitionsAheadDays: number;
  /** Days of per-minute and per-hour rollups. */
  rollupDays: number;
  /** Days of audit_log; 0 keeps everything. */
  auditDays: number;
  /** Move expired audit rows into audit_log_archive rather than deleting them. */
  auditArchive: boolean;
  /** Days a finished execution's log entries are kept; 0 keeps them. */
  executionLogDays: number;
}

export function retentionConfig(r: Reader): RetentionConfig {
  return {
    enabled: r.bool('RETENTION_ENABLED'),
    intervalMs: r.int('RETENTION_INTERVAL_MINUTES') * 60_000,
    metricsDays: r.int('METRICS_RETENTION_DAYS'),
    partitionsAheadDays: r.int('METRICS_PARTITIONS_AHEAD_DAYS'),
    rollupDays: r.int('ROLLUP_RETENTION_DAYS'),
    auditDays: r.int('AUDIT_RETENTION_DAYS'),
    auditArchive: r.bool('AUDIT_ARCHIVE'),
    executionLogDays: r.int('EXECUTION_LOG_RETENTION_DAYS'),
  };
}
