import Redis from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { DataSource } from 'typeorm';
import { query } from '../db/rows';
import { outsideRequest } from '../request';

/** What one request did to its budget; sent to the client as `extensions.cost`. */
export interface BudgetState {
  /** Points per minute. */
  limit: number;
  /** What this request cost (0 for a request refused before its cost was known, or refunded). */
  requested: number;
  remaining: number;
  resetAt: Date;
  /** False when the request did not fit in what was left. */
  allowed: boolean;
}

/**
 * Per-key, per-minute cost budgets (fixed windows). The counters live outside the process, so
 * every gateway instance on the same store spends from the same budget.
 */
export interface RateLimiter {
  readonly limit: number;
  /** Spends `cost` if it fits in what is left of this minute; otherwise spends nothing. */
  charge(key: string, cost: number): Promise<BudgetState>;
  /** The budget as it stands, spending nothing. */
  peek(key: string): Promise<BudgetState>;
  close(): Promise<void>;
}

/** A rate limiter that can give a charge back (the leasing one, which the gateway uses). */
export interface RefundingRateLimiter extends RateLimiter {
  /** Gives back what `charged` (a state `charge` answered) spent; returns the budget after it. */
  refund(key: string, charged: BudgetState): BudgetState;
}

/** Counters in the gateway's PostgreSQL: one upsert per request; old windows pruned now and then. */
export class PostgresRateLimiter implements RateLimiter {
  constructor(
    private readonly db: DataSource,
    readonly limit: number,
  ) {}

  // Bookkeeping runs outside the request's statement count (X-SQL-Statements counts its data SQL).
  private query<T>(sql: string, params: unknown[]): Promise<T[]> {
    return outsideRequest(() => query<T>(this.db, sql, params));
  }

  async charge(key: string, cost: number): Promise<BudgetState> {
    if (cost <= 0 || cost > this.limit) {
      const state = await this.peek(key);
      return { ...state, requested: cost, allowed: cost <= 0 };
    }
    if (Math.random() < 0.01) await this.query(`DELETE FROM rate_limit_windows WHERE window_start < now() - interval '10 minutes'`, []);
    const rows = await this.query<{ spent: number; window_start: Date }>(
      `INSERT INTO rate_limit_windows AS w (budget_key, window_start, spent)
       VALUES ($1, date_trunc('minute', now()), $2)
       ON CONFLICT (budget_key, window_start) DO UPDATE SET spent = w.spent + EXCLUDED.spent
         WHERE w.spent + EXCLUDED.spent <= $3
       RETURNING spent, window_start`,
      [key, cost, this.limit],
    );
    if (rows.length === 0) return { ...(await this.peek(key)), requested: cost, allowed: false };
    return this.state(rows[0].spent, rows[0].window_start, cost, true);
  }

  async peek(key: string): Promise<BudgetState> {
    const [row] = await this.query<{ spent: number | null; window_start: Date }>(
      `SELECT (SELECT spent FROM rate_limit_windows WHERE budget_key = $1 AND window_start = date_trunc('minute', now())) AS spent,
              date_trunc('minute', now()) AS window_start`,
      [key],
    );
    return this.state(row.spent ?? 0, row.window_start, 0, true);
  }

  private state(spent: number, windowStart: Date, requested: number, allowed: boolean): BudgetState {
    return {
      limit: this.limit,
      requested,
      remaining: Math.max(0, this.limit - spent),
      resetAt: new Date(windowStart.getTime() + 60_000),
      allowed,
    };
  }

  async close(): Promise<void> {}
}

// Spends only when it fits, atomically: returns {allowed, spent}.
const CHARGE = `
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[1])
if spent + cost > tonumber(ARGV[2]) then return {0, spent} end
spent = redis.call('INCRBY', KEYS[1], cost)
redis.call('EXPIRE', KEYS[1], 120)
return {1, spent}`;

/** Counters in Redis (RATE_LIMIT_STORE=redis), for deployments that already run one. */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;

  constructor(
    url: string,
    readonly limit: number,
  ) {
    this.redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2, enableOfflineQueue: true });
  }

  private window(): { key: (k: string) => string; resetAt: Date } {
    const minute = Math.floor(Date.now() / 60_000);
    return { key: (k) => `taskmaster:rate:${minute}:${k}`, resetAt: new Date((minute + 1) * 60_000) };
  }

  async charge(key: string, cost: number): Promise<BudgetState> {
    const w = this.window();
    if (cost <= 0) return { ...(await this.peek(key)), requested: cost };
    const [allowed, spent] = (await this.redis.eval(CHARGE, 1, w.key(key), cost, this.limit)) as [number, number];
    return { limit: this.limit, requested: cost, remaining: Math.max(0, this.limit - spent), resetAt: w.resetAt, allowed: allowed === 1 };
  }

  async peek(key: string): Promise<BudgetState> {
    const w = this.window();
    const spent = Number((await this.redis.get(w.key(key))) ?? 0);
    return { limit: this.limit, requested: 0, remaining: Math.max(0, this.limit - spent), resetAt: w.resetAt, allowed: true };
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}

/** Share of a token's per-minute budget one gateway instance takes from the store at a time. */
export const LEASE_SHARE = 0.01;

interface Lease {
  /** Points taken from the store and not yet spent here. */
  left: number;
  /** The store's remaining budget when the lease was taken (the lease already deducted). */
  storeRemaining: number;
  resetAt: Date;
}

/**
 * Spends from the shared store in leases of 1 % of the budget (at least the request's cost), so a
 * busy token costs the store one round trip per lease rather than one per request. Leased points
 * count as spent in the store, so no token spends more than its limit across instances; what an
 * instance leased and did not spend is lost at the minute's end, and another instance may refuse
 * up to 1 % early per instance. A request costing a lease or more goes to the store alone, which
 * keeps small budgets exact. Concurrent requests for one key wait for one refill. Free requests
 * report the budget as this instance last saw it in the store this minute. Refunds go into the
 * lease (see refund).
 */
export class LeasingRateLimiter implements RefundingRateLimiter {
  private readonly leases = new LRUCache<string, Lease>({ max: 10_000 });
  private readonly refills = new Map<string, Promise<unknown>>();
  private readonly leaseSize: number;

  constructor(private readonly store: RateLimiter) {
    this.leaseSize = Math.floor(store.limit * LEASE_SHARE);
  }

  get limit(): number {
    return this.store.limit;
  }

  private current(key: string): Lease | undefined {
    const lease = this.leases.get(key);
    if (lease && lease.resetAt.getTime() > Date.now()) return lease;
    if (lease) this.leases.delete(key);
    return undefined;
  }

  private view(lease: Lease, requested: number, allowed: boolean): BudgetState {
    return { limit: this.limit, requested, remaining: lease.storeRemaining + lease.left, resetAt: lease.resetAt, allowed };
  }

  async charge(key: string, cost: number): Promise<BudgetState> {
    for (;;) {
      const lease = this.current(key);
      if (cost <= 0) return { ...(await this.peek(key)), requested: cost };
      if (lease && lease.left >= cost) {
        lease.left -= cost;
        return this.view(lease, cost, true);
      }
      const pending = this.refills.get(key);
      if (!pending) break;
      await pending.catch(() => undefined);
    }
    const refill = this.refill(key, cost);
    this.refills.set(key, refill);
    try {
      return await refill;
    } finally {
      this.refills.delete(key);
    }
  }

  private async refill(key: string, cost: number): Promise<BudgetState> {
    const amount = Math.max(cost, this.leaseSize);
    let state = await this.store.charge(key, amount);
    if (!state.allowed && amount > cost) state = await this.store.charge(key, cost);
    // what is left of the previous lease of the same minute (others may have spent from it meanwhile)
    const previous = this.current(key);
    const kept = previous && previous.resetAt.getTime() === state.resetAt.getTime() ? previous.left : 0;
    const left = kept + (state.allowed ? state.requested - cost : 0);
    const lease: Lease = { left, storeRemaining: state.remaining, resetAt: state.resetAt };
    this.keep(key, lease);
    return this.view(lease, cost, state.allowed);
  }

  /**
   * Puts what a charge spent back into this instance's lease of the same minute, never into the
   * store: the store keeps counting those points as spent (leased here), so its count never goes
   * down and the limit still holds across instances; later requests on this instance spend them.
   * A charge refused, free, or of a minute whose lease is gone (the minute ended) gets nothing back.
   */
  refund(key: string, charged: BudgetState): BudgetState {
    const lease = this.current(key);
    if (!lease || !charged.allowed || charged.requested <= 0 || lease.resetAt.getTime() !== charged.resetAt.getTime()) return charged;
    lease.left += charged.requested;
    return this.view(lease, 0, true);
  }

  /** From this minute's lease if there is one; else asks the store once and keeps its answer as an empty lease. */
  async peek(key: string): Promise<BudgetState> {
    const lease = this.current(key);
    if (lease) return this.view(lease, 0, true);
    const state = await this.store.peek(key);
    this.keep(key, { left: 0, storeRemaining: state.remaining, resetAt: state.resetAt });
    return state;
  }

  private keep(key: string, lease: Lease): void {
    this.leases.set(key, lease);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
