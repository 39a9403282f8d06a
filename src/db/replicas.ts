import { Pool, type PoolConfig } from 'pg';
import type { DataSource } from 'typeorm';
import type { DatabaseConfig } from '../config';
import { connectionFailure, sqlState } from '../errors';
import type { Logger } from '../logger';
import { requestStats, type ReadRoute } from '../request';
import { sslOptions } from './data-source';
import { poolRunner, primaryQuery, routeReads, type PreparedQuery, type ReadRouter } from './sql';

/**
 * Read replicas (DATABASE_REPLICA_URLS). Queries read from a replica, mutations and everything a
 * mutation reads from the primary; the choice is made once per request, at its first read, and
 * kept for the request (one snapshot source per answer). Which replica: the least loaded in
 * rotation (fewest connections in use or awaited in its pool), ties taken in turn.
 *
 * Read-your-writes: a mutation's answer carries the WAL position of its commit (X-Read-After,
 * extensions.readAfter). A read that sends it back (or whose token wrote within DB_REPLICA_PIN_MS
 * on this instance) is served by a replica only once that replica has replayed past it
 * (`pg_last_wal_replay_lsn()`), waiting at most DB_REPLICA_WAIT_MS, else by the primary.
 *
 * Faults: every DB_REPLICA_CHECK_MS each replica's replay position is read and its lag measured
 * (bytes behind the primary's WAL, seconds since the primary wrote the oldest WAL it has not
 * replayed); lagging past DB_REPLICA_MAX_LAG_MS or unreachable, it leaves rotation, and comes back
 * at the first check that finds it well. A read a replica fails for its own reasons (connection,
 * recovery conflict) is run again on the primary: reads never fail because a replica did.
 */

export type ReplicaState = 'CONNECTING' | 'UP' | 'LAGGING' | 'DOWN';

/** A route that sends every read to the primary. */
export const PRIMARY_ROUTE: Readonly<ReadRoute> = Object.freeze({ primary: true });

/**
 * The end of the WAL a committed transaction wrote, asked right after it committed. With
 * synchronous_commit on (or local, remote_*), COMMIT returns only once its record is flushed, so
 * the write position `pg_current_wal_lsn()` is already past it — and it is the tighter bound: the
 * insert position may be ahead of what has been written (other sessions' records still being
 * copied in), so a replica would be waited for longer than needed. With synchronous_commit off
 * the commit may not be written yet, and only `pg_current_wal_insert_lsn()` is sure to be past it.
 */
export const COMMITTED_LSN_SQL = `SELECT (CASE WHEN current_setting('synchronous_commit') = 'off' THEN pg_current_wal_insert_lsn() ELSE pg_current_wal_lsn() END)::text AS lsn`;

/** `X/Y` (PostgreSQL's pg_lsn text) as a number of bytes; undefined when it is not one. */
export function parseLsn(text: string | null | undefined): bigint | undefined {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text ?? '');
  return m ? (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`) : undefined;
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** SQLSTATEs of a replica's own trouble, after which the read is run on the primary. */
function replicaFault(error: unknown): { down: boolean } | undefined {
  const code = sqlState(error);
  // No SQLSTATE or a connection failure (refused, reset, a pool timeout, gone away: src/errors.ts),
  // or class 53 (the replica out of resources).
  if (code === undefined || connectionFailure(error) !== undefined || code.startsWith('53')) return { down: true };
  // A recovery conflict cancelled the statement (40001), or a statement that writes (25006).
  if (code === '40001' || code === '25006' || code === '55000') return { down: false };
  return undefined;
}

/** A replica's own description of itself: no user or password. */
function replicaName(url: string, index: number): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}`;
  } catch {
    return `replica-${index + 1}`;
  }
}

const POLL_MS = 2;
/** Primary WAL positions kept to date a replica's replay position (lagSeconds). */
const SAMPLES_KEPT = 600;

export class Replica {
  state: ReplicaState = 'CONNECTING';
  lagBytes: number | null = null;
  lagSeconds: number | null = null;
  /** The replay position last read from it (0: unknown, e.g. since it went down). */
  replayed = 0n;
  /** Statements it answered since start. */
  readsServed = 0;
  lastError: string | null = null;
  readonly run: PreparedQuery;
  private polling?: Promise<bigint>;

  constructor(
    readonly name: string,
    readonly pool: Pool,
    /** For checks and read-after polls: never waits behind the reads. */
    private readonly control: Pool,
    run: (pool: Pool) => PreparedQuery,
  ) {
    this.run = run(pool);
  }

  get inRotation(): boolean {
    return this.state === 'UP';
  }

  /** Connections in use or awaited. */
  get load(): number {
    return this.pool.totalCount - this.pool.idleCount + this.pool.waitingCount;
  }

  /** Its replay position now (one statement in flight at a time, shared by every waiting request). */
  replayPosition(): Promise<bigint> {
    return (this.polling ??= this.control
      .query<{ lsn: string | null }>('SELECT pg_last_wal_replay_lsn()::text AS lsn')
      .then(({ rows }) => (this.replayed = parseLsn(rows[0]?.lsn) ?? 0n))
      .finally(() => (this.polling = undefined)));
  }

  /** Reads `pg_is_in_recovery()` and the replay position. */
  async check(): Promise<{ recovery: boolean; replay: bigint }> {
    const { rows } = await this.control.query<{ recovery: boolean; lsn: string | null }>(
      'SELECT pg_is_in_recovery() AS recovery, pg_last_wal_replay_lsn()::text AS lsn',
    );
    return { recovery: rows[0].recovery, replay: (this.replayed = parseLsn(rows[0].lsn) ?? 0n) };
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end().catch(() => undefined), this.control.end().catch(() => undefined)]);
  }
}

/** The counters poolHealth and /metrics show of one replica. */
export interface ReplicaSnapshot {
  name: string;
  state: ReplicaState;
  lagSeconds: number | null;
  lagBytes: number | null;
  readsServed: number;
  lastError: string | null;
  pool: { total: number; idle: number; waiting: number; max: number; min: number };
}

export class ReplicaSet implements ReadRouter {
  readonly replicas: Replica[];
  /** Reads sent to the primary by routing (no replica in rotation or caught up, a replica failed). */
  primaryReads = 0;
  /** Reads a replica failed and the primary answered. */
  fallbacks = 0;
  /** Read-after waits that ended at DB_REPLICA_WAIT_MS (the primary answered). */
  waitTimeouts = 0;
  private readonly pins = new Map<string, { lsn: bigint; until: number }>();
  private readonly samples: { at: number; lsn: bigint }[] = [];
  private readonly primaryControl: Pool;
  private turn = 0;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;
  /** The primary's WAL position last asked for routeSince, and when it was asked. */
  private position?: { started: number; value: Promise<bigint> };

  constructor(
    private readonly dataSource: DataSource,
    urls: readonly string[],
    private readonly db: DatabaseConfig,
    private readonly logger: Logger,
  ) {
    const base: PoolConfig = {
      ssl: sslOptions(db) as PoolConfig['ssl'],
      application_name: 'taskmaster-gateway',
      statement_timeout: db.pool.statementTimeoutMs || undefined,
    };
    const controlOf = (connectionString: string): Pool =>
      this.quiet(
        new Pool({ ...base, connectionString, max: 2, connectionTimeoutMillis: 2_000, application_name: 'taskmaster-gateway-replicas' }),
      );
    const log = dataSource.logger;
    const slowMs = dataSource.options.maxQueryExecutionTime;
    this.replicas = urls.map((url, i) => {
      const pool = new Pool({
        ...base,
        connectionString: url,
        min: db.pool.min,
        max: db.pool.max,
        idleTimeoutMillis: db.pool.idleTimeoutMs,
        // A replica that does not answer should cost a read little before the primary takes it.
        connectionTimeoutMillis: Math.min(db.pool.connectionTimeoutMs, 2_000),
        maxLifetimeSeconds: db.pool.maxLifetimeSeconds,
        maxUses: db.pool.maxUses || Infinity,
      });
      const replica = new Replica(replicaName(url, i), pool, controlOf(url), (p) => poolRunner(p, log, slowMs));
      pool.on('error', (error) => this.fault(replica, error));
      return replica;
    });
    const primaryPool = (dataSource.driver as unknown as { master: Pool & { options: PoolConfig } }).master;
    this.primaryControl = this.quiet(
      new Pool({ ...primaryPool.options, password: primaryPool.options.password, max: 1, application_name: 'taskmaster-gateway-replicas' }),
    );
  }

  /** Routes the data source's reads through this set and starts the lag checks (the first one now). */
  async start(): Promise<void> {
    routeReads(this.dataSource, this);
    await this.check();
    this.timer = setInterval(() => void this.check(), this.db.replicas.checkMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
    await Promise.all([...this.replicas.map((r) => r.close()), this.primaryControl.end().catch(() => undefined)]);
  }

  /** The route of a query: to a replica, after the position given (X-Read-After) or pinned by its token's last write. */
  routeFor(principal: string, given?: bigint): ReadRoute {
    const pin = this.pins.get(principal);
    const pinned = pin && pin.until > Date.now() ? pin.lsn : undefined;
    const after = given === undefined ? pinned : pinned === undefined || given > pinned ? given : pinned;
    return { primary: false, after };
  }

  /**
   * After a mutation: the WAL position its commits reached (what X-Read-After carries), pinned for
   * the token's reads for DB_REPLICA_PIN_MS on this instance.
   */
  async committed(principal: string): Promise<string> {
    const [row] = await primaryQuery(this.dataSource)<{ lsn: string }>(COMMITTED_LSN_SQL, []);
    const lsn = parseLsn(row.lsn)!;
    if (this.db.replicas.pinMs > 0) {
      const pin = this.pins.get(principal);
      this.pins.set(principal, { lsn: pin && pin.lsn > lsn ? pin.lsn : lsn, until: Date.now() + this.db.replicas.pinMs });
    }
    return formatLsn(lsn);
  }

  /**
   * The route of reads about changes the primary had committed by `at` (ms since epoch: a
   * subscription event, read from the change log then): to a replica that has replayed the WAL
   * position the primary reported after `at`. One position statement serves every event read before it began.
   */
  routeSince(at: number): ReadRoute {
    let position = this.position;
    if (!position || position.started <= at) {
      const started = Date.now();
      const value = this.primaryControl.query<{ lsn: string }>(COMMITTED_LSN_SQL).then(({ rows }) => parseLsn(rows[0].lsn)!);
      this.position = position = { started, value };
    }
    return { primary: false, target: position.value.then((lsn) => this.choose(lsn)).catch(() => undefined) };
  }

  read<Row>(sql: string, params: unknown[], primary: () => Promise<Row[]>): Promise<Row[]> | undefined {
    const route = requestStats.getStore()?.reads;
    if (!route || route.primary) return undefined;
    return this.readOn(route, sql, params, primary);
  }

  snapshot(): ReplicaSnapshot[] {
    return this.replicas.map((r) => ({
      name: r.name,
      state: r.state,
      lagSeconds: r.lagSeconds,
      lagBytes: r.lagBytes,
      readsServed: r.readsServed,
      lastError: r.lastError,
      pool: {
        total: r.pool.totalCount,
        idle: r.pool.idleCount,
        waiting: r.pool.waitingCount,
        max: this.db.pool.max,
        min: this.db.pool.min,
      },
    }));
  }

  private async readOn<Row>(route: ReadRoute, sql: string, params: unknown[], primary: () => Promise<Row[]>): Promise<Row[]> {
    const replica = (await (route.target ??= this.choose(route.after))) as Replica | undefined;
    if (!replica) {
      this.primaryReads += 1;
      return primary();
    }
    try {
      const rows = await replica.run<Row>(sql, params);
      replica.readsServed += 1;
      return rows;
    } catch (error) {
      const fault = replicaFault(error);
      if (!fault) throw error;
      if (fault.down) this.fault(replica, error);
      // The rest of the request reads from the primary too.
      route.target = Promise.resolve(undefined);
      this.fallbacks += 1;
      this.primaryReads += 1;
      return primary();
    }
  }

  /** The least loaded replica in rotation (that has replayed `after`, waiting for it at most DB_REPLICA_WAIT_MS). */
  private async choose(after?: bigint): Promise<Replica | undefined> {
    const n = this.replicas.length;
    const turn = this.turn++;
    const ready = this.replicas
      .map((r, i) => ({ r, order: (i - turn + n * 1_000_000) % n }))
      .filter(({ r }) => r.inRotation)
      .sort((a, b) => a.r.load - b.r.load || a.order - b.order)
      .map(({ r }) => r);
    if (ready.length === 0 || after === undefined) return ready[0];
    const caughtUp = ready.find((r) => r.replayed >= after);
    if (caughtUp) return caughtUp;
    const deadline = performance.now() + this.db.replicas.waitMs;
    for (;;) {
      const positions = await Promise.all(ready.map((r) => r.replayPosition().catch(() => 0n)));
      const i = positions.findIndex((p) => p >= after);
      if (i >= 0 && ready[i].inRotation) return ready[i];
      const left = deadline - performance.now();
      if (left <= 0) {
        this.waitTimeouts += 1;
        return undefined;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, left)));
    }
  }

  /** A replica failed a read or a check: out of rotation until a check finds it well. */
  private fault(replica: Replica, error: unknown): void {
    const reason = describe(error);
    if (replica.state !== 'DOWN')
      this.logger.warn(`read replica ${replica.name} is down: ${reason}; its reads go elsewhere`, { replica: replica.name });
    replica.state = 'DOWN';
    replica.replayed = 0n;
    replica.lastError = reason;
  }

  /** One lag check of every replica (never two at once). */
  private check(): Promise<void> {
    return (this.checking ??= this.checkAll().finally(() => (this.checking = undefined)));
  }

  private async checkAll(): Promise<void> {
    const now = Date.now();
    try {
      const { rows } = await this.primaryControl.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn');
      this.samples.push({ at: now, lsn: parseLsn(rows[0].lsn)! });
      if (this.samples.length > SAMPLES_KEPT) this.samples.shift();
    } catch {
      // The primary is away: lag cannot be measured; replicas keep their last figures.
    }
    for (const [key, pin] of this.pins) if (pin.until <= now) this.pins.delete(key);
    const head = this.samples.at(-1)?.lsn;
    await Promise.all(
      this.replicas.map(async (replica) => {
        try {
          const { recovery, replay } = await replica.check();
          if (!recovery) throw new Error('not in recovery (promoted?): not a replica of this primary any more');
          if (head !== undefined) {
            const behind = head > replay ? head - replay : 0n;
            replica.lagBytes = Number(behind);
            // Since when the primary has WAL the replica has not replayed: the oldest sample past it.
            const since = behind === 0n ? undefined : this.samples.find((s) => s.lsn > replay);
            replica.lagSeconds = since ? Math.round(now - since.at) / 1000 : 0;
          }
          const lagging = (replica.lagSeconds ?? 0) * 1000 > this.db.replicas.maxLagMs;
          const state: ReplicaState = lagging ? 'LAGGING' : 'UP';
          if (state !== replica.state) {
            const log = state === 'UP' ? 'info' : 'warn';
            this.logger[log](
              state === 'UP'
                ? `read replica ${replica.name} is in rotation`
                : `read replica ${replica.name} lags ${replica.lagSeconds} s (over DB_REPLICA_MAX_LAG_MS=${this.db.replicas.maxLagMs}): out of rotation`,
              { replica: replica.name, lagSeconds: replica.lagSeconds, lagBytes: replica.lagBytes },
            );
          }
          replica.state = state;
          if (state === 'UP') replica.lastError = null;
        } catch (error) {
          this.fault(replica, error);
        }
      }),
    );
  }

  /** A pool whose idle connections may die (a replica stopped): noted, never an unhandled 'error'. */
  private quiet(pool: Pool): Pool {
    pool.on('error', () => undefined);
    return pool;
  }
}

/** A driver message names no host, port or credentials: its code, or its first line without addresses. */
function describe(error: unknown): string {
  const e = error as { driverError?: { code?: string }; code?: string; message?: string };
  const code = e?.driverError?.code ?? e?.code;
  if (code) return code;
  return String(e?.message ?? error)
    .split('\n')[0]
    .replace(/\S+@\S+|\[?[\d.:a-f]+\]?:\d+/gi, '…')
    .slice(0, 200);
}
