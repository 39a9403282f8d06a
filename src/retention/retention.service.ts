import type { DataSource, QueryRunner } from 'typeorm';
import type { RetentionConfig } from '../config';
import type { Logger } from '../logger';
import type { StoreStats } from '../health/pool-health.types';
import { PARTITIONED_TABLES, type RetentionStore, type Run } from './retention.store';

/** The advisory lock that makes one gateway at a time run the job (session-level, on its own connection). */
const LOCK_KEY = 'taskmaster_retention';
/** Store statistics are read at most this often (the oldest row of a partitioned table scans its oldest day). */
const STATS_MAX_AGE_MS = 60_000;
const STATS_WAIT_MS = 2_000;
/** How long a partition drop waits for its lock on the parent: meanwhile inserts queue behind it. */
const DROP_LOCK_TIMEOUT = '2s';
const DAY_MS = 86_400_000;

export interface RetentionRun {
  /** False when another gateway held the lock (nothing was done). */
  ran: boolean;
  /** Partitions created ahead. */
  created: number;
  /** Per store with a window: what its purge did. */
  purged: Record<string, string>;
}

/**
 * The retention job: on start-up it creates the metrics partitions ahead; every
 * RETENTION_INTERVAL_MINUTES it creates them again and purges every store past its window. Gateways
 * sharing a database take turns through an advisory lock, so one runs at a time.
 */
export class RetentionService {
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private cached?: { at: number; stats: StoreStats[] };
  private refreshing?: Promise<StoreStats[]>;

  constructor(
    private readonly db: DataSource,
    private readonly config: RetentionConfig,
    private readonly logger: Logger,
    private readonly stores: RetentionStore[],
  ) {}

  /** Another feature's store (e.g. execution logs), run and measured with these. */
  register(store: RetentionStore): void {
    this.stores.push(store);
  }

  async start(): Promise<void> {
    if (!this.config.enabled) return;
    await this.guarded(() => this.runOnce({ purge: false }));
    this.timer = setInterval(() => void this.guarded(() => this.runOnce()), this.config.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Creates partitions ahead and (unless told not to) purges every store; skipped when another gateway holds the lock. */
  async runOnce({ purge = true, now = new Date() }: { purge?: boolean; now?: Date } = {}): Promise<RetentionRun> {
    return this.session(async (run) => {
      const [{ locked }] = await run<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtext($1)) AS locked`, [LOCK_KEY]);
      if (!locked) return { ran: false, created: 0, purged: {} };
      try {
        const ahead = new Date(now.getTime() + this.config.partitionsAheadDays * DAY_MS).toISOString().slice(0, 10);
        const yesterday = new Date(now.getTime() - DAY_MS).toISOString().slice(0, 10);
        let created = 0;
        for (const table of PARTITIONED_TABLES) {
          const [{ n }] = await run<{ n: number }>(`SELECT metrics_ensure_partitions($1, $2::date, $3::date) AS n`, [
            table,
            yesterday,
            ahead,
          ]);
          created += n;
        }
        const purged: Record<string, string> = {};
        if (purge) {
          await run(`SET lock_timeout = '${DROP_LOCK_TIMEOUT}'`);
          for (const store of this.stores) {
            if (!store.purge) continue;
            try {
              purged[store.table] = await store.purge(run, now);
            } catch (error) {
              purged[store.table] = `failed: ${(error as Error).message}`;
              this.logger.warn(`retention: ${store.table} not purged, retried at the next run`, { reason: (error as Error).message });
            }
          }
          await run(`RESET lock_timeout`);
        }
        if (created > 0 || Object.keys(purged).length > 0) this.logger.info('retention run', { created, purged });
        this.cached = undefined;
        return { ran: true, created, purged };
      } finally {
        await run(`SELECT pg_advisory_unlock(hashtext($1))`, [LOCK_KEY]);
      }
    });
  }

  /**
   * Every store's size and oldest row, at most a minute old. Read on the pool; the first call waits
   * for the reading (at most STATS_WAIT_MS: a database away must not hold poolHealth or /metrics),
   * later ones get the last one while a newer is read.
   */
  async stats(): Promise<StoreStats[]> {
    if (this.cached && Date.now() - this.cached.at < STATS_MAX_AGE_MS) return this.cached.stats;
    const reading = (this.refreshing ??= this.readStats().finally(() => (this.refreshing = undefined)));
    if (this.cached) return this.cached.stats;
    return Promise.race([reading, new Promise<StoreStats[]>((resolve) => setTimeout(() => resolve([]), STATS_WAIT_MS).unref())]);
  }

  private async readStats(): Promise<StoreStats[]> {
    const stats = await Promise.all(this.stores.map((s) => this.storeStats(s)));
    this.cached = { at: Date.now(), stats };
    return stats;
  }

  private async storeStats(store: RetentionStore): Promise<StoreStats> {
    const run: Run = (sql, params) => this.db.query(sql, params);
    try {
      const [{ size }] = await run<{ size: string | null }>(
        `SELECT sum(pg_total_relation_size(relid))::bigint AS size FROM pg_partition_tree(to_regclass($1))`,
        [store.table],
      );
      return { store: store.table, sizeBytes: size === null ? null : Number(size), oldestAt: await oldest(run, store) };
    } catch (error) {
      this.logger.warn(`retention: could not measure ${store.table}`, { reason: (error as Error).message });
      return { store: store.table, sizeBytes: null, oldestAt: null };
    }
  }

  private async guarded(job: () => Promise<unknown>): Promise<void> {
    if (this.running) return;
    this.running = job()
      .catch((error: Error) => this.logger.error('retention run failed; retried at the next run', { reason: error.message }))
      .finally(() => (this.running = undefined));
    await this.running;
  }

  /** The job's own connection: the advisory lock is the session's. */
  private async session<T>(work: (run: Run) => Promise<T>): Promise<T> {
    const runner: QueryRunner = this.db.createQueryRunner();
    try {
      return await work((sql, params) => runner.query(sql, params));
    } finally {
      await runner.release();
    }
  }
}

/** A partitioned table's oldest row: the default partition's and the oldest non-empty day's, not a scan of every partition. */
async function oldest(run: Run, store: RetentionStore): Promise<Date | null> {
  if (store.oldest) return store.oldest(run);
  const min = async (table: string) => (await run<{ at: Date | null }>(`SELECT min(${store.timeColumn}) AS at FROM ${table}`))[0].at;
  if (!store.partitioned) return min(store.table);
  const parts = await run<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = $1::regclass AND c.relname ~ '_p[0-9]{8}$' ORDER BY 1`,
    [store.table],
  );
  let found: Date | null = null;
  for (const { name } of parts) if ((found = await min(name))) break;
  const stray = await min(`${store.table}_default`);
  return stray && (!found || stray < found) ? stray : found;
}
