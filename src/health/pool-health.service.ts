import type { Pool } from 'pg';
import type { DataSource, DataSourceOptions } from 'typeorm';
import type { DatabaseConfig } from '../config';
import type { Logger } from '../logger';
import { DatabaseProbe, type DatabaseProbeResult } from './database-probe';
import type { PoolCounters } from './prometheus';
import type { HealthConfig } from '../config';
import { pgSettings } from '../db/data-source';
import type { ReplicaSnapshot } from '../db/replicas';
import { HealthStatus, type ListenerStats, type PoolHealth, type PoolStats, type ReplicaStats, type StoreStats } from './pool-health.types';

type PostgresOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

/** What /ready reports: a short reason code for anyone, details for the log. */
export interface Readiness {
  ready: boolean;
  /** Why not ready: `database_unreachable`, `connections_exhausted`, `migrations_pending`, `migrations_unknown`. */
  reason?: string;
  /** For the log only (may name the driver's error and the pending migrations). */
  detail: Record<string, unknown>;
}

/** How long a request refused for want of a connection keeps /ready at 503 (ms). */
const UNAVAILABLE_WINDOW_MS = 5_000;

/**
 * Pool and database health. Pool counters come from the pg pool behind TypeORM; everything about
 * the database comes through a dedicated connection with a deadline (DatabaseProbe), so a check
 * answers in time when the database is down or the pool is exhausted.
 */
export class PoolHealthService {
  private readonly probe: DatabaseProbe;
  private readonly listeners: ((result: DatabaseProbeResult) => void)[] = [];
  private lastUnavailableAt = 0;
  private listenerState?: () => ListenerStats;
  private replicaState?: () => ReplicaSnapshot[];
  private storeStats?: () => Promise<StoreStats[]>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly db: DatabaseConfig,
    private readonly health: HealthConfig,
    logger: Logger,
  ) {
    const options = dataSource.options as PostgresOptions;
    this.probe = new DatabaseProbe(
      {
        ...pgSettings(db),
        application_name: 'taskmaster-gateway-health',
        statement_timeout: Math.max(health.checkTimeoutMs * 5, 5_000),
      },
      options.migrationsTableName ?? 'migrations',
      health.checkTimeoutMs,
      logger,
      [db.password ?? '', passwordOf(db.url)],
    );
  }

  /** Called with every probe's result (the metrics keep the latest response time). */
  onProbe(listener: (result: DatabaseProbeResult) => void): void {
    this.listeners.push(listener);
  }

  /** Where poolHealth reads the state of the subscriptions' change-log connection. */
  watchListener(state: () => ListenerStats): void {
    this.listenerState = state;
  }

  /** Where poolHealth reads the read replicas' state (src/db/replicas.ts). */
  watchReplicas(state: () => ReplicaSnapshot[]): void {
    this.replicaState = state;
  }

  /** Where poolHealth reads the growing tables' sizes and oldest rows (src/retention/). */
  watchStores(read: () => Promise<StoreStats[]>): void {
    this.storeStats = read;
  }

  /** The growing tables' sizes and oldest rows (read only when asked: poolHealth.stores). */
  async stores(): Promise<StoreStats[]> {
    return (await this.storeStats?.().catch(() => [])) ?? [];
  }

  /** The pg pool's own counters, read without touching the database. */
  poolCounters(): PoolCounters {
    const pool = (this.dataSource.driver as unknown as { master?: Pool }).master;
    return {
      total: pool?.totalCount ?? 0,
      idle: pool?.idleCount ?? 0,
      waiting: pool?.waitingCount ?? 0,
      max: this.db.pool.max,
      min: this.db.pool.min,
    };
  }

  async check(): Promise<PoolHealth> {
    const probe = await this.probeDatabase();
    const counters = this.poolCounters();
    const active = Math.max(counters.total - counters.idle, 0);
    const pool: PoolStats = { ...counters, active, utilizationPercent: Math.round((1000 * active) / counters.max) / 10 };
    const pending = this.pendingMigrations(probe);
    const { thresholds } = this.health;

    const reasons: string[] = [];
    let status = HealthStatus.HEALTHY;
    if (!probe.connected) {
      status = HealthStatus.UNHEALTHY;
      reasons.push(`database unreachable: ${probe.error ?? 'no answer'}`);
    } else {
      if (probe.responseTimeMs !== null && probe.responseTimeMs > thresholds.responseTimeMs) {
        reasons.push(`database response time ${probe.responseTimeMs} ms is over ${thresholds.responseTimeMs} ms`);
      }
      if (pending.length > 0) reasons.push(`${pending.length} pending migration(s): ${pending.join(', ')}`);
    }
    if (pool.utilizationPercent > thresholds.poolUtilizationPercent) {
      reasons.push(`pool utilisation ${pool.utilizationPercent}% is over ${thresholds.poolUtilizationPercent}%`);
    }
    if (pool.waiting > 0) reasons.push(`${pool.waiting} request(s) waiting for a pool connection`);
    const listener = this.listenerState?.() ?? null;
    if (listener && listener.status !== 'LISTENING' && listener.status !== 'STOPPED') {
      reasons.push(
        `subscriptions: the change-log connection is ${listener.status.toLowerCase()}${listener.lastError ? ` (${listener.lastError})` : ''}`,
      );
    }
    const replicas = (this.replicaState?.() ?? []).map(replicaStats);
    // A replica out of rotation degrades nothing but capacity: a reason, never UNHEALTHY (nor /ready).
    for (const r of replicas) if (r.state !== 'UP') reasons.push(`read replica ${r.name} is ${r.state.toLowerCase()}: out of rotation`);
    if (status === HealthStatus.HEALTHY && reasons.length > 0) status = HealthStatus.DEGRADED;

    const { responseTimeMs, error: _error, appliedMigrations, ...stats } = probe;
    return {
      status,
      reasons,
      pool,
      database: { ...stats, responseTimeMs },
      migrations: { applied: appliedMigrations?.length ?? null, pending },
      replicas,
      thresholds: { ...thresholds, checkTimeoutMs: this.health.checkTimeoutMs },
      listener,
      checkedAt: new Date(),
    };
  }

  /** A request was refused for want of a database connection (SERVICE_UNAVAILABLE): /ready says so for a while. */
  noteUnavailable(): void {
    this.lastUnavailableAt = Date.now();
  }

  /**
   * Readiness: the database answers within the deadline, requests are getting connections (not:
   * one refused SERVICE_UNAVAILABLE in the last few seconds and the gateway's pool is still full —
   * runSql's own pool is not counted) and no migration is pending.
   */
  async readiness(): Promise<Readiness> {
    const probe = await this.probeDatabase();
    if (!probe.connected) return { ready: false, reason: 'database_unreachable', detail: { error: probe.error ?? 'no answer' } };
    const counters = this.poolCounters();
    // A refusal counts only while the pool is still full: after a database restart the failed
    // requests were refused for want of a database, and the pool is idle again at once.
    const full = counters.waiting > 0 || (counters.idle === 0 && counters.total >= counters.max);
    if (full && Date.now() - this.lastUnavailableAt < UNAVAILABLE_WINDOW_MS) {
      return { ready: false, reason: 'connections_exhausted', detail: { pool: counters } };
    }
    if (probe.appliedMigrations === null)
      return { ready: false, reason: 'migrations_unknown', detail: { error: 'could not read the applied migrations' } };
    const pending = this.pendingMigrations(probe);
    if (pending.length > 0) return { ready: false, reason: 'migrations_pending', detail: { pending } };
    return { ready: true, detail: { responseTimeMs: probe.responseTimeMs } };
  }

  close(): Promise<void> {
    return this.probe.close();
  }

  private async probeDatabase(): Promise<DatabaseProbeResult> {
    const result = await this.probe.probe();
    for (const listener of this.listeners) listener(result);
    return result;
  }

  private pendingMigrations(probe: DatabaseProbeResult): string[] {
    if (probe.appliedMigrations === null) return [];
    const applied = new Set(probe.appliedMigrations);
    return this.dataSource.migrations.map((m) => m.name ?? m.constructor.name).filter((name) => !applied.has(name));
  }
}

function replicaStats(r: ReplicaSnapshot): ReplicaStats {
  const active = Math.max(r.pool.total - r.pool.idle, 0);
  return { ...r, pool: { ...r.pool, active, utilizationPercent: Math.round((1000 * active) / r.pool.max) / 10 } };
}

function passwordOf(url: string | undefined): string {
  if (!url) return '';
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}
