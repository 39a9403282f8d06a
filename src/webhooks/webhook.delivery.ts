import http from 'node:http';
import https from 'node:https';
import type { Counter, Histogram } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { WebhooksConfig } from '../config';
import { query } from '../db/rows';
import type { Logger } from '../logger';
import type { SecretBox } from '../secrets/secret-box';
import { WebhookDisabledReason } from './webhook.entity';
import { messageId } from './webhook.events';
import { post, RefusedUrl, resolveTarget, signatureHeader, type PostResult, type UrlRules } from './webhook.http';

/** Open deliveries of one endpoint read at once (then sent one by one, in seq order). */
const BATCH = 50;
/** Successful attempts are recorded in one statement per this many, or after this long. */
const SUCCESS_BATCH = 25;
const SUCCESS_FLUSH_MS = 100;
const LEASE_MARGIN_MS = 10_000;

/**
 * Retry n (1-based) waits base x 5^(n-1), at most base x 7200, +-20 % jitter. With the default
 * base of 5 s: 5 s, 25 s, ~2 min, ~10 min, ~52 min, ~4.3 h, 10 h, 10 h: about 25 h over 8 retries.
 */
export function retryDelayMs(retry: number, baseMs: number, random = Math.random): number {
  const delay = Math.min(baseMs * 5 ** (retry - 1), baseMs * 7_200);
  return Math.round(delay * (0.8 + 0.4 * random()));
}

/** How long a claimed endpoint stays this instance's: the attempt's own deadline and a margin. */
export const leaseMs = (config: WebhooksConfig): number => config.timeoutMs + LEASE_MARGIN_MS;

export interface ClaimedEndpoint {
  id: string;
  url: string;
  secret: unknown;
  previousSecret: unknown;
}

interface OpenDelivery {
  id: string;
  seq: number;
  body: string;
  attempts: number;
  due: boolean;
  occurredAt: Date;
}

/**
 * Sending, for the dispatcher (webhook.dispatcher.ts), once it has leased an endpoint: its open
 * deliveries one at a time in seq order, each signed POST's result recorded under the lease (which
 * each record extends). A failure schedules a retry and holds the later events back.
 */
export class WebhookSender {
  counters?: { deliveries: Counter; lag: Histogram };
  private readonly rules: UrlRules;

  constructor(
    private readonly db: DataSource,
    private readonly config: WebhooksConfig,
    private readonly secrets: SecretBox,
    private readonly logger: Logger,
    /** The lease owner's name (WebhookDispatcher.instance). */
    private readonly instance: string,
    private readonly stopped: () => boolean,
  ) {
    this.rules = { allowPrivate: config.allowPrivateUrls, allowHttp: config.allowHttp };
  }

  private get leaseMs(): number {
    return leaseMs(this.config);
  }

  /** Sends an endpoint's open deliveries in seq order until none is due, one fails, or the lease is lost. */
  async sendAll(endpoint: ClaimedEndpoint): Promise<void> {
    const keys = [endpoint.secret, endpoint.previousSecret].filter((s) => s != null).map((s) => String(this.secrets.open(s).key));
    const agent = new (endpoint.url.startsWith('https:') ? https : http).Agent({ keepAlive: true, maxSockets: 1 });
    const succeeded = new Successes(this, endpoint);
    try {
      for (;;) {
        const open = await query<OpenDelivery>(
          this.db,
          `SELECT id::text AS id, seq::float8 AS seq, body, attempts, next_attempt_at <= now() AS due, occurred_at AS "occurredAt"
           FROM webhook_deliveries WHERE webhook_id = $1 AND status IN ('pending', 'retrying') ORDER BY seq LIMIT ${BATCH}`,
          [endpoint.id],
        );
        let more = open.length > 0; // all sent: look again (the fan-out may have queued more)
        for (const delivery of open) {
          // one at a time, in seq order; a failure (or one not yet due) holds back the later ones
          if (!delivery.due || this.stopped()) {
            more = false;
            break;
          }
          const result = await this.attempt(endpoint, keys, delivery, agent);
          if (result.status !== null && result.status >= 200 && result.status < 300) {
            // recorded a few at a time (one statement each SUCCESS_BATCH or SUCCESS_FLUSH_MS): a crash
            // before that resends them under the same webhook-id, which at-least-once allows
            if (!(await succeeded.add(delivery, result))) more = false;
          } else {
            more = false;
            if (await succeeded.flush()) await this.record(endpoint, delivery, result);
          }
          if (!more) break;
        }
        if (!more || this.stopped()) break;
        // the batch read again: flush first, so the next read does not return what was sent
        if (!(await succeeded.flush())) break;
      }
      await succeeded.flush();
    } finally {
      agent.destroy();
      await query(this.db, `UPDATE webhooks SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2`, [
        endpoint.id,
        this.instance,
      ]).catch(() => undefined);
    }
  }

  /** Records successful attempts in one statement under the lease; false when the lease was lost. */
  async recordSuccesses(endpoint: ClaimedEndpoint, done: { delivery: OpenDelivery; result: PostResult; at: Date }[]): Promise<boolean> {
    const [row] = await query<{ n: number }>(
      this.db,
      `WITH held AS (
         UPDATE webhooks SET lease_until = now() + make_interval(secs => $3::float8 / 1000), last_seq = greatest(last_seq, $4::bigint)
         WHERE id = $1::uuid AND lease_owner = $2::varchar RETURNING id),
       recorded AS (
         UPDATE webhook_deliveries d SET status = 'succeeded', attempts = u.attempts, last_attempt_at = u.at, delivered_at = u.at,
           response_status = u.status, response_body = u.body, latency_ms = u.latency, error = NULL
         FROM held, unnest($5::uuid[], $6::int[], $7::int[], $8::varchar[], $9::int[], $10::timestamptz[]) AS u(id, attempts, status, body, latency, at)
         WHERE d.id = u.id AND d.status IN ('pending', 'retrying')
         RETURNING d.id)
       SELECT (SELECT count(*) FROM held)::int AS n`,
      [
        endpoint.id,
        this.instance,
        this.leaseMs,
        Math.max(...done.map((d) => d.delivery.seq)),
        done.map((d) => d.delivery.id),
        done.map((d) => d.delivery.attempts + 1),
        done.map((d) => d.result.status),
        done.map((d) => d.result.body),
        done.map((d) => d.result.latencyMs),
        done.map((d) => d.at.toISOString()),
      ],
    );
    for (const d of done) {
      this.counters?.deliveries.inc({ webhook_id: endpoint.id, outcome: 'succeeded' });
      this.counters?.lag.observe((d.at.getTime() - new Date(d.delivery.occurredAt).getTime()) / 1000);
    }
    return row?.n === 1;
  }

  /** One signed POST; the URL is checked again now, and the connection goes to the address checked. */
  private async attempt(endpoint: ClaimedEndpoint, keys: string[], delivery: OpenDelivery, agent: http.Agent): Promise<PostResult> {
    const started = performance.now();
    try {
      const url = new URL(endpoint.url);
      const address = await resolveTarget(url, this.rules);
      const id = messageId(delivery.seq);
      const timestamp = Math.floor(Date.now() / 1000);
      return await post({
        url,
        address,
        body: delivery.body,
        headers: {
          'user-agent': 'taskmaster-gateway-webhooks',
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatureHeader(keys, id, timestamp, delivery.body),
        },
        connectTimeoutMs: this.config.connectTimeoutMs,
        timeoutMs: this.config.timeoutMs,
        agent,
      });
    } catch (error) {
      const code = error instanceof RefusedUrl ? error.code : 'ERROR';
      return { status: null, body: null, error: code, latencyMs: Math.round(performance.now() - started) };
    }
  }

  /**
   * Records an attempt under the lease, in one statement: 2xx succeeded (the endpoint's last_seq
   * moves); 410 failed and the endpoint disabled (GONE); anything else a retry after the schedule's
   * delay, or, past WEBHOOK_RETRY_ATTEMPTS, failed and the endpoint disabled (EXHAUSTED).
   */
  private async record(
    endpoint: ClaimedEndpoint,
    delivery: OpenDelivery,
    r: PostResult,
  ): Promise<'succeeded' | 'failed' | 'gone' | 'exhausted' | 'lost'> {
    const ok = r.status !== null && r.status >= 200 && r.status < 300;
    const attempts = delivery.attempts + 1;
    const outcome = ok ? 'succeeded' : r.status === 410 ? 'gone' : attempts > this.config.retryAttempts ? 'exhausted' : 'failed';
    const status = outcome === 'succeeded' ? 'succeeded' : outcome === 'failed' ? 'retrying' : 'failed';
    const retryInMs = outcome === 'failed' ? retryDelayMs(attempts, this.config.retryBaseMs) : 0;
    const disable = outcome === 'gone' ? WebhookDisabledReason.GONE : outcome === 'exhausted' ? WebhookDisabledReason.EXHAUSTED : null;
    const rows = await query<{ id: string }>(
      this.db,
      `WITH held AS (
         UPDATE webhooks SET
           lease_until = now() + make_interval(secs => $3::float8 / 1000),
           last_seq = CASE WHEN $4::text = 'succeeded' THEN greatest(last_seq, $5::bigint) ELSE last_seq END,
           status = CASE WHEN $6::text IS NULL THEN status ELSE 'disabled' END,
           disabled_reason = coalesce($6::text, disabled_reason),
           disabled_at = CASE WHEN $6::text IS NULL THEN disabled_at ELSE now() END
         WHERE id = $1::uuid AND lease_owner = $2::varchar RETURNING id)
       , recorded AS (UPDATE webhook_deliveries d SET
         status = $7::varchar, attempts = $8::int, last_attempt_at = now(), response_status = $9::int, response_body = $10::varchar,
         latency_ms = $11::int, error = $12::varchar, next_attempt_at = now() + make_interval(secs => $13::float8 / 1000),
         delivered_at = CASE WHEN $7::varchar = 'succeeded' THEN now() ELSE NULL END
       FROM held WHERE d.id = $14::uuid AND d.status IN ('pending', 'retrying')
       RETURNING d.id)
       SELECT id FROM recorded`,
      [
        endpoint.id,
        this.instance,
        this.leaseMs,
        outcome,
        delivery.seq,
        disable,
        status,
        attempts,
        r.status,
        r.body,
        r.latencyMs,
        r.error,
        retryInMs,
        delivery.id,
      ],
    );
    if (rows.length === 0) return 'lost';
    this.counters?.deliveries.inc({ webhook_id: endpoint.id, outcome });
    if (ok) this.counters?.lag.observe((Date.now() - new Date(delivery.occurredAt).getTime()) / 1000);
    if (disable)
      this.logger.error(
        `webhooks: endpoint ${endpoint.id} disabled (${disable}): ${outcome === 'gone' ? 'the receiver answered 410 Gone' : `event ${messageId(delivery.seq)} failed ${attempts} attempts`}; re-enable it with updateWebhook(input: {id, enabled: true}) once the receiver works`,
        { webhookId: endpoint.id, reason: disable, messageId: messageId(delivery.seq), lastStatus: r.status, lastError: r.error },
      );
    else if (!ok)
      this.logger.warn('webhooks: delivery attempt failed; retrying', {
        webhookId: endpoint.id,
        messageId: messageId(delivery.seq),
        attempt: attempts,
        status: r.status,
        error: r.error,
        retryInMs,
      });
    return outcome;
  }
}

/** Successful attempts of one endpoint's run waiting to be recorded together. */
class Successes {
  private done: { delivery: OpenDelivery; result: PostResult; at: Date }[] = [];
  private since = 0;

  constructor(
    private readonly sender: WebhookSender,
    private readonly endpoint: ClaimedEndpoint,
  ) {}

  /** Adds one; flushes when the batch is full or old enough. False: the lease was lost. */
  async add(delivery: OpenDelivery, result: PostResult): Promise<boolean> {
    if (this.done.length === 0) this.since = Date.now();
    this.done.push({ delivery, result, at: new Date() });
    return this.done.length >= SUCCESS_BATCH || Date.now() - this.since >= SUCCESS_FLUSH_MS ? this.flush() : true;
  }

  async flush(): Promise<boolean> {
    if (this.done.length === 0) return true;
    const done = this.done;
    this.done = [];
    return this.sender.recordSuccesses(this.endpoint, done);
  }
}
