import type { RetentionConfig } from '../config';

/** Runs one statement on the retention job's own session. */
export type Run = <Row = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<Row[]>;

/**
 * A table that grows, as the retention job sees it: how to measure it (poolHealth, /metrics) and,
 * when it has a window, how to remove what is past it. Another feature registers its own store
 * beside these (RetentionService.register).
 */
export interface RetentionStore {
  /** The table; a partitioned one counts its partitions. */
  table: string;
  /** The column holding a row's time (its oldest value is reported). */
  timeColumn: string;
  /** Partitioned by day as `<table>_pYYYYMMDD` plus `<table>_default` (migration MetricsPartitions). */
  partitioned?: boolean;
  /** The oldest row's time where `min(timeColumn)` would scan the table (no index on it); absent: that min. */
  oldest?: (run: Run) => Promise<Date | null>;
  /** Removes what is past the window at `now`, returns a summary for the log; absent: kept (or cleaned elsewhere). */
  purge?: (run: Run, now: Date) => Promise<string>;
}

/** Rows deleted per statement where a store is cleaned row by row. */
export const DELETE_BATCH = 10_000;
/** At most this many batches per run, so one run never holds the job for long; the next run goes on. */
const MAX_BATCHES = 100;
const DAY_MS = 86_400_000;

/** The day (UTC, YYYY-MM-DD) `days` before `now`: partitions of earlier days are wholly past the window. */
export function cutoffDay(now: Date, days: number): string {
  return new Date(now.getTime() - days * DAY_MS).toISOString().slice(0, 10);
}

/**
 * A daily-partitioned metrics table: partitions of whole days past the window are dropped (never a
 * bulk DELETE); the default partition holds only strays (samples for days without a partition)
 * and loses its expired rows by DELETE.
 */
function partitionedStore(table: string, timeColumn: string, days: number): RetentionStore {
  return {
    table,
    timeColumn,
    partitioned: true,
    async purge(run, now) {
      const dropped = await run<{ name: string }>(`SELECT metrics_drop_partitions($1, $2::date) AS name`, [table, cutoffDay(now, days)]);
      const strays = await run<{ n: number }>(
        `WITH gone AS (DELETE FROM ${table}_default WHERE ${timeColumn} < $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`,
        [new Date(now.getTime() - days * DAY_MS).toISOString()],
      );
      return `${dropped.length} partition(s) dropped${dropped.length ? ` (${dropped.map((d) => d.name).join(', ')})` : ''}, ${strays[0].n} stray row(s) deleted from ${table}_default`;
    },
  };
}

/** audit_log: rows past AUDIT_RETENTION_DAYS deleted in batches (oldest first), archived first when AUDIT_ARCHIVE is on. */
function auditStore(days: number, archive: boolean): RetentionStore {
  return {
    table: 'audit_log',
    timeColumn: 'occurred_at',
    purge:
      days === 0
        ? undefined
        : async (run, now) => {
            const before = new Date(now.getTime() - days * DAY_MS).toISOString();
            let total = 0;
            for (let i = 0; i < MAX_BATCHES; i++) {
              const [{ n }] = await run<{ n: number }>(
                `WITH gone AS (
                   DELETE FROM audit_log WHERE id IN (
                     SELECT id FROM audit_log WHERE occurred_at < $1 ORDER BY occurred_at, id LIMIT ${DELETE_BATCH})
                   RETURNING *)${
                     archive
                       ? `,
                 kept AS (INSERT INTO audit_log_archive (id, occurred_at, entry) SELECT id, occurred_at, to_jsonb(gone) FROM gone)`
                       : ''
                   }
                 SELECT count(*)::int AS n FROM gone`,
                [before],
              );
              total += n;
              if (n < DELETE_BATCH) break;
            }
            return `${total} audit row(s) ${archive ? 'moved to audit_log_archive' : 'deleted'}`;
          },
  };
}

/**
 * The stores of this gateway: metrics (raw and rollups) and the audit log with their windows; the
 * change log, whose rows the subscription listener purges, is measured only.
 */
export function defaultStores(config: RetentionConfig): RetentionStore[] {
  return [
    partitionedStore('system_metrics', 'timestamp', config.metricsDays),
    partitionedStore('system_metric_rollups_1m', 'bucket_start', config.rollupDays),
    partitionedStore('system_metric_rollups_1h', 'bucket_start', config.rollupDays),
    auditStore(config.auditDays, config.auditArchive),
    { table: 'change_log', timeColumn: 'occurred_at' },
  ];
}

/** The partitioned tables whose days are created ahead. */
export const PARTITIONED_TABLES = ['system_metrics', 'system_metric_rollups_1m', 'system_metric_rollups_1h'] as const;
