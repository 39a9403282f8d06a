import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { WebhooksConfig } from '../config';
import { query } from '../db/rows';
import { TaskExecution } from '../executions/execution.entity';
import type { Logger } from '../logger';
import type { SecretBox } from '../secrets/secret-box';
import { Task } from '../tasks/task.entity';
import type { TaskFilter } from '../tasks/task.query';
import { WebhookDisabledReason } from './webhook.entity';
import { leaseMs, WebhookSender, type ClaimedEndpoint } from './webhook.delivery';
import { fanOut, FAN_OUT_PAGE, messageId, RowShape, type ActiveWebhook } from './webhook.events';

/** Finished deliveries older than the retention are deleted this often. */
const PURGE_EVERY_MS = 10 * 60_000;

export interface WebhookHealthState {
  /** Endpoints disabled, by reason (exhausted: the operator must look). */
  disabled: { reason: WebhookDisabledReason; count: number }[];
  /** Events queued and not yet delivered, over all active endpoints. */
  pending: number;
  /** Age of the oldest such event (seconds; 0 when none). */
  oldestPendingSeconds: number;
  /** Change-log rows not yet looked at by the fan-out. */
  changeLogBacklog: number;
}

/**
 * Delivers webhook events, on every instance at once without two of them sending the same attempt:
 *
 * 1. Fan-out: whoever holds webhook_dispatch's one row (FOR UPDATE SKIP LOCKED) reads the change
 *    log after its cursor in seq order, queues one delivery per matching endpoint and moves the
 *    cursor, all in one transaction: a crash queues nothing twice and loses nothing.
 * 2. Sending (webhook.delivery.ts): an endpoint whose oldest open delivery is due is claimed with a lease (lease_owner,
 *    lease_until; FOR UPDATE SKIP LOCKED among instances), then its open deliveries are sent one at
 *    a time in seq order, each result recorded under the lease (which each record extends). A
 *    failure schedules a retry and holds the later events back. An instance killed mid-delivery
 *    leaves its lease to expire (WEBHOOK_TIMEOUT_MS + 10 s); then any instance resends that event
 *    under the same webhook-id (at-least-once).
 */
export class WebhookDispatcher {
  readonly instance = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private timer?: NodeJS.Timeout;
  private purgeTimer?: NodeJS.Timeout;
  private ticking = false;
  /** The pass under way (stop waits for it). */
  private pass?: Promise<void>;
  private failing = false;
  private stopped = false;
  private readonly sending = new Set<Promise<void>>();
  private readonly shapes: { task: RowShape; execution: RowShape };
  private readonly sender: WebhookSender;

  constructor(
    private readonly db: DataSource,
    private readonly config: WebhooksConfig,
    secrets: SecretBox,
    private readonly logger: Logger,
  ) {
    this.shapes = { task: new RowShape(db, Task), execution: new RowShape(db, TaskExecution) };
    this.sender = new WebhookSender(db, config, secrets, logger, this.instance, () => this.stopped);
  }

  private get leaseMs(): number {
    return leaseMs(this.config);
  }

  start(): void {
    this.timer = setInterval(() => {
      if (!this.ticking) this.pass = this.tick();
    }, this.config.pollMs);
    this.timer.unref();
    this.purgeTimer = setInterval(() => void this.purge(), PURGE_EVERY_MS);
    this.purgeTimer.unref();
    void this.purge();
  }

  /** Stops claiming; waits for the attempts under way (each bounded by WEBHOOK_TIMEOUT_MS). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearInterval(this.purgeTimer);
    await this.pass; // a fan-out or claim under way finishes before the pool closes
    await Promise.allSettled([...this.sending]);
  }

  registerMetrics(registry: Registry): void {
    this.sender.counters = {
      deliveries: new Counter({
        name: 'taskmaster_webhook_deliveries_total',
        help: 'Webhook delivery attempts by endpoint and outcome (succeeded, failed: will retry, gone: 410, exhausted: gave up).',
        labelNames: ['webhook_id', 'outcome'],
        registers: [registry],
      }),
      lag: new Histogram({
        name: 'taskmaster_webhook_delivery_lag_seconds',
        help: 'From the change to its successful delivery.',
        buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30, 300, 3600],
        registers: [registry],
      }),
    };
    const health = () => this.health().catch(() => null);
    new Gauge({
      name: 'taskmaster_webhooks_disabled',
      help: 'Webhook endpoints disabled, by reason (exhausted: every retry failed; gone: the receiver answered 410).',
      labelNames: ['reason'],
      registers: [registry],
      async collect() {
        this.reset();
        const h = await health();
        for (const reason of Object.values(WebhookDisabledReason))
          this.set({ reason }, h?.disabled.find((d) => d.reason === reason)?.count ?? 0);
      },
    });
    new Gauge({
      name: 'taskmaster_webhook_oldest_pending_seconds',
      help: 'Age of the oldest event queued for an active endpoint and not yet delivered (0 when none).',
      registers: [registry],
      async collect() {
        this.set((await health())?.oldestPendingSeconds ?? 0);
      },
    });
  }

  async health(): Promise<WebhookHealthState> {
    const [row] = await query<{
      disabled: { reason: WebhookDisabledReason; count: number }[];
      pending: number;
      oldest: number;
      backlog: number;
    }>(
      this.db,
      `SELECT
         (SELECT coalesce(jsonb_agg(jsonb_build_object('reason', r, 'count', n)), '[]') FROM
            (SELECT disabled_reason AS r, count(*)::int AS n FROM webhooks WHERE status = 'disabled' GROUP BY disabled_reason) d) AS disabled,
         (SELECT count(*)::int FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
            WHERE w.status = 'active' AND d.status IN ('pending', 'retrying')) AS pending,
         (SELECT coalesce(extract(epoch FROM now() - min(d.occurred_at)), 0)::float8 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
            WHERE w.status = 'active' AND d.status IN ('pending', 'retrying')) AS oldest,
         (SELECT count(*)::int FROM change_log WHERE seq > (SELECT last_seq FROM webhook_dispatch WHERE id = 1)) AS backlog`,
    );
    return { disabled: row.disabled, pending: row.pending, oldestPendingSeconds: row.oldest, changeLogBacklog: row.backlog };
  }

  /** One pass: queue what the change log has, then claim endpoints with due events up to WEBHOOK_CONCURRENCY. */
  async tick(): Promise<void> {
    if (this.ticking || this.stopped) return;
    this.ticking = true;
    try {
      while ((await this.fanOutOnce()) && !this.stopped);
      const free = this.config.concurrency - this.sending.size;
      if (free > 0) for (const endpoint of await this.claim(free)) this.track(this.sender.sendAll(endpoint));
      if (this.failing) this.logger.info('webhooks: dispatching again');
      this.failing = false;
    } catch (error) {
      // once per outage, not once per poll
      if (!this.failing)
        this.logger.warn('webhooks: dispatch pass failed; retrying every WEBHOOK_POLL_MS', {
          reason: (error as Error).message.split('\n')[0].slice(0, 200),
        });
      this.failing = true;
    } finally {
      this.ticking = false;
    }
  }

  private track(work: Promise<void>): void {
    const p: Promise<void> = work
      .catch((error: Error) => {
        this.logger.warn('webhooks: sending failed; the lease will expire and it is retried', { reason: error.message.slice(0, 200) });
      })
      .finally(() => this.sending.delete(p));
    this.sending.add(p);
  }

  /** One fan-out page in one transaction; true when a full page was read (more may follow). */
  private async fanOutOnce(): Promise<boolean> {
    const [peek] = await query<{ more: boolean }>(
      this.db,
      // change_log_read numbers the committed changes first (the sequencer, migration 1767300000000), outside
      // the fan-out's transaction so the sequencer's lock is not held while the page is queued
      `SELECT EXISTS (SELECT 1 FROM change_log_read((SELECT last_seq FROM webhook_dispatch WHERE id = 1), 1)) AS more`,
    );
    if (!peek?.more) return false;
    const runner = this.db.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      const run = (sql: string, params?: unknown[]) => runner.query(sql, params) as Promise<Record<string, unknown>[]>;
      const [state] = await run(
        `SELECT d.last_seq::text AS last_seq, s.purged_through::text AS purged FROM webhook_dispatch d, change_log_state s
         WHERE d.id = 1 AND s.id = 1 FOR UPDATE OF d SKIP LOCKED`,
      );
      if (!state) {
        await runner.commitTransaction();
        return false; // another instance is at it
      }
      let after = Number(state.last_seq);
      if (after < Number(state.purged)) {
        this.logger.error('webhooks: the change log was purged past the dispatch cursor; events in between are lost', {
          cursor: after,
          purgedThrough: Number(state.purged),
        });
        after = Number(state.purged);
      }
      const webhooks = (await run(`SELECT id::text AS id, events, filter FROM webhooks WHERE status = 'active'`)).map(
        (w) => ({ id: w.id, events: w.events, filter: w.filter as TaskFilter | null }) as ActiveWebhook,
      );
      const { deliveries, lastSeq, read } = await fanOut(run, this.shapes, after, webhooks);
      if (deliveries.length > 0)
        await run(
          `INSERT INTO webhook_deliveries (webhook_id, seq, message_id, event_type, body, occurred_at)
           SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::varchar[], $4::varchar[], $5::text[], $6::timestamptz[])
           ON CONFLICT (webhook_id, seq) DO NOTHING`,
          [
            deliveries.map((d) => d.webhookId),
            deliveries.map((d) => d.seq),
            deliveries.map((d) => messageId(d.seq)),
            deliveries.map((d) => d.type),
            deliveries.map((d) => d.body),
            deliveries.map((d) => d.occurredAt.toISOString()),
          ],
        );
      await run(`UPDATE webhook_dispatch SET last_seq = $1 WHERE id = 1`, [lastSeq]);
      await runner.commitTransaction();
      return read === FAN_OUT_PAGE;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  /** Endpoints whose oldest open delivery is due and that no live instance holds, leased to this one. */
  private async claim(limit: number): Promise<ClaimedEndpoint[]> {
    return query<ClaimedEndpoint>(
      this.db,
      // in a CTE: an UPDATE's own RETURNING comes back from TypeORM as [rows, count]
      `WITH claimed AS (UPDATE webhooks w SET lease_owner = $1, lease_until = now() + make_interval(secs => $2::float8 / 1000)
       WHERE w.id IN (
         SELECT c.id FROM webhooks c
         WHERE c.status = 'active' AND (c.lease_until IS NULL OR c.lease_until < now())
           AND (SELECT d.next_attempt_at FROM webhook_deliveries d
                WHERE d.webhook_id = c.id AND d.status IN ('pending', 'retrying') ORDER BY d.seq LIMIT 1) <= now()
         ORDER BY c.lease_until NULLS FIRST
         LIMIT $3
         FOR UPDATE SKIP LOCKED)
       RETURNING w.id::text AS id, w.url, w.secret,
         CASE WHEN w.previous_secret_expires_at > now() THEN w.previous_secret END AS "previousSecret")
       SELECT * FROM claimed`,
      [this.instance, this.leaseMs, limit],
    );
  }

  /** Finished deliveries past WEBHOOK_DELIVERY_RETENTION_HOURS. */
  private async purge(): Promise<void> {
    await query(
      this.db,
      `DELETE FROM webhook_deliveries WHERE status IN ('succeeded', 'failed') AND created_at < now() - make_interval(hours => $1)`,
      [this.config.retentionHours],
    ).catch((error: Error) => this.logger.warn('webhooks: purging the delivery log failed', { reason: error.message.slice(0, 200) }));
  }
}
