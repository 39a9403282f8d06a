import { Client, type ClientConfig } from 'pg';
import type { Logger } from '../logger';
import { CHANGE_COLUMNS, SEQUENCE_CHANGES, toChangeEvent, type ChangeEvent } from './change-log';

const PAGE = 1_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;
/** Delete change-log rows older than the replay window this often (with or without subscribers: the log must not grow). */
const PURGE_EVERY_MS = 10 * 60_000;

export type ListenerStatus = 'CONNECTING' | 'LISTENING' | 'RECONNECTING' | 'STOPPED';

export interface ListenerState {
  /** LISTENING: connected, reading the change log whenever this instance has a live subscription. */
  status: ListenerStatus;
  /** The highest change-log seq read so far. */
  lastSeq: number;
  /** Connections made after losing one. */
  reconnects: number;
  /** When the current connection was made (null while not connected). */
  listeningSince: Date | null;
  /** Why the last connection failed (no host, port or credentials). */
  lastError: string | null;
}

export interface ChangeListenerOptions {
  clientConfig: ClientConfig;
  replayHours: number;
  /** ms between reads while active (SUBSCRIPTION_POLL_MS). */
  pollMs: number;
  logger: Logger;
  /** The newest seq in the change log, read through the request pool (works while this connection is being re-made). */
  head(): Promise<number>;
  deliver(events: ChangeEvent[]): void;
  /** Called once per statement that reads the change log (the reads counter in /metrics). */
  onRead?(): void;
}

/**
 * One dedicated connection per gateway (never from the request pool) that reads the change log
 * after the last seq it saw and hands the rows on in seq order. Before each read it runs the
 * sequencer, which numbers the rows committed since (see
 * migrations/1767300000000-ChangeLogWithoutLock.ts): seqs become visible in increasing order, so
 * reading `seq > last` never skips a row, whoever wrote it: this gateway, another instance, plain
 * SQL. Writers take no lock for it.
 *
 * It reads only while this instance has a live subscription (`activate` / `deactivate`, from
 * ChangeHub): every SUBSCRIPTION_POLL_MS, and at once when `poke`d after one of this instance's
 * own writes committed. An idle gateway sends no statement for subscriptions at all, and writers
 * pay nothing for them (there is no NOTIFY: PostgreSQL commits notifying transactions one at a
 * time). When the connection drops (a database restart) it reconnects with backoff and reads what
 * it missed.
 */
export class ChangeListener {
  private client?: Client;
  private state: ListenerState = { status: 'CONNECTING', lastSeq: 0, reconnects: 0, listeningSince: null, lastError: null };
  private reading = false;
  private readAgain = false;
  private stopped = false;
  private attempt = 0;
  private retryTimer?: NodeJS.Timeout;
  private pollTimer?: NodeJS.Timeout;
  private purgeTimer?: NodeJS.Timeout;
  private active = false;
  private activating?: Promise<void>;
  /** Connected once already: a later connection counts as a reconnect. */
  private connectedOnce = false;

  constructor(private readonly o: ChangeListenerOptions) {}

  get status(): ListenerState {
    return { ...this.state };
  }

  /** Whether it is reading the change log (this instance has a live subscription). */
  get polling(): boolean {
    return this.active;
  }

  /**
   * Connects. A failure does not stop the gateway (the database may not be reachable yet): it is
   * logged, shown in poolHealth, and retried with backoff.
   */
  async start(): Promise<void> {
    this.purgeTimer = setInterval(() => this.purge(), PURGE_EVERY_MS);
    this.purgeTimer.unref();
    try {
      await this.connect();
      this.purge();
    } catch (error) {
      this.state = { ...this.state, status: 'RECONNECTING', lastError: describe(error as Error) };
      this.o.logger.error('subscriptions: the change listener could not connect; retrying', { reason: describe(error as Error) });
      this.scheduleReconnect();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.deactivate();
    this.state.status = 'STOPPED';
    this.state.listeningSince = null;
    clearTimeout(this.retryTimer);
    clearInterval(this.purgeTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  /**
   * Starts reading, from the newest change: called before the first subscription of an idle
   * instance registers, so it receives every change committed after it subscribed (and nothing
   * older; a subscription with `after` replays older ones itself). Concurrent calls share one read.
   */
  activate(): Promise<void> {
    if (this.active) return Promise.resolve();
    return (this.activating ??= (async () => {
      try {
        const head = await this.o.head();
        this.state.lastSeq = Math.max(this.state.lastSeq, head);
        this.active = true;
        this.pollTimer = setInterval(() => this.read(), this.o.pollMs);
        this.pollTimer.unref();
      } finally {
        this.activating = undefined;
      }
    })());
  }

  /** Stops reading (the last subscription ended). The next `activate` starts from the newest change again. */
  deactivate(): void {
    this.active = false;
    clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  /** Reads now (one of this instance's writes committed), if anyone is subscribed. */
  poke(): void {
    if (this.active) this.read();
  }

  private async connect(): Promise<void> {
    const client = new Client({
      ...this.o.clientConfig,
      application_name: 'taskmaster-gateway-changes',
      keepAlive: true,
      query_timeout: 15_000,
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection closed')));
    try {
      await client.connect();
    } catch (error) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.attempt = 0;
    this.state = { ...this.state, status: 'LISTENING', listeningSince: new Date(), lastError: null };
    if (this.connectedOnce) {
      this.state.reconnects += 1;
      this.o.logger.info('subscriptions: change listener reconnected; reading what it missed', { lastSeq: this.state.lastSeq });
    }
    this.connectedOnce = true;
    this.poke(); // what was committed while the connection was down
  }

  private lost(client: Client, error: Error): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.state = { ...this.state, status: 'RECONNECTING', listeningSince: null, lastError: describe(error) };
    this.o.logger.warn('subscriptions: change listener lost its connection; reconnecting', { reason: describe(error) });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt++);
    this.retryTimer = setTimeout(() => {
      this.connect().catch((error: Error) => {
        this.state.lastError = describe(error);
        this.scheduleReconnect();
      });
    }, delay);
    this.retryTimer.unref();
  }

  /** Reads every change after lastSeq, one read at a time; a wake-up during a read reads again. */
  private read(): void {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    const client = this.client;
    if (!client || !this.active) return;
    this.reading = true;
    (async () => {
      do {
        this.readAgain = false;
        while (this.active) {
          this.o.onRead?.();
          // The sequencer numbers what was committed since, then the read (one statement).
          const { rows } = await client.query<Record<string, unknown> & { seq: string }>(
            `SELECT ${CHANGE_COLUMNS} FROM change_log_read($1, ${PAGE}) ORDER BY seq`,
            [this.state.lastSeq],
          );
          // activate() may have moved lastSeq past some of these while the statement ran.
          const fresh = rows.filter((row) => Number(row.seq) > this.state.lastSeq);
          if (fresh.length > 0 && this.active) {
            const now = Date.now();
            const events = fresh.map((row) => ({ ...toChangeEvent(row), receivedAt: now }));
            this.state.lastSeq = events[events.length - 1].seq;
            this.o.deliver(events);
          }
          if (rows.length < PAGE) break;
        }
      } while (this.readAgain && this.client === client && this.active);
    })()
      .catch((error: Error) => {
        // A broken connection also raises 'error'/'end', which reconnects; the next read starts from lastSeq.
        if (this.client === client) this.o.logger.warn('subscriptions: reading the change log failed', { reason: describe(error) });
      })
      .finally(() => {
        this.reading = false;
        if (this.readAgain && this.client) this.read();
      });
  }

  /**
   * Deletes change-log rows older than the replay window; purged_through says up to where. It
   * numbers them first (nobody may have read them: an instance without subscriptions) and deletes
   * only numbered ones.
   */
  private purge(): void {
    const client = this.client;
    if (!client) return;
    client
      .query(SEQUENCE_CHANGES)
      .then(() =>
        client.query(
          `WITH gone AS (DELETE FROM change_log WHERE occurred_at < now() - make_interval(hours => $1) AND seq IS NOT NULL RETURNING seq)
         UPDATE change_log_state SET purged_through = greatest(purged_through, (SELECT max(seq) FROM gone))
         WHERE id = 1 AND EXISTS (SELECT 1 FROM gone)`,
          [this.o.replayHours],
        ),
      )
      .catch((error: Error) => {
        if (this.client === client) this.o.logger.warn('subscriptions: purging the change log failed', { reason: describe(error) });
      });
  }
}

/** A driver message names no host, port or credentials; keep only its code and first line. */
function describe(error: Error): string {
  const code = (error as { code?: string }).code;
  if (code) return code;
  return String(error.message ?? error)
    .split('\n')[0]
    .replace(/\S+@\S+|\[?[\d.:a-f]+\]?:\d+/gi, '…')
    .slice(0, 200);
}
