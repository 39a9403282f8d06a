import { Client, type ClientConfig } from 'pg';
import type { Logger } from '../logger';
import { CHANGE_COLUMNS, toChangeEvent, type ChangeEvent } from './change-log';

export const CHANGE_CHANNEL = 'taskmaster_changes';
const PAGE = 1_000;
/** Read the change log this often even without a notification: a lost NOTIFY costs at most this, and a dead connection is noticed. */
const POLL_MS = 5_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;
/** Delete change-log rows older than the replay window this often. */
const PURGE_EVERY_MS = 10 * 60_000;

export type ListenerStatus = 'CONNECTING' | 'LISTENING' | 'RECONNECTING' | 'STOPPED';

export interface ListenerState {
  status: ListenerStatus;
  /** The highest change-log seq read so far. */
  lastSeq: number;
  /** Connections made after losing one. */
  reconnects: number;
  /** When the current connection started listening (null while not listening). */
  listeningSince: Date | null;
  /** Why the last connection failed (no host, port or credentials). */
  lastError: string | null;
}

/**
 * One dedicated connection per gateway (never from the request pool) that LISTENs on
 * `taskmaster_changes`. A notification only wakes it: it then reads the change log after the last
 * seq it saw, on the same connection, and hands the rows on in seq order. As seq order is commit
 * order (see the migration), reading `seq > last` never skips a row. When the connection drops (a
 * database restart) it reconnects with backoff, LISTENs again and reads what it missed.
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
  private lastPurge = 0;
  /** Not yet connected once: the first connection reads where the log ends. */
  private starting = false;

  constructor(
    private readonly clientConfig: ClientConfig,
    private readonly replayHours: number,
    private readonly logger: Logger,
    private readonly deliver: (events: ChangeEvent[]) => void,
  ) {}

  get status(): ListenerState {
    return { ...this.state };
  }

  /**
   * Connects and starts from the newest change. A failure does not stop the gateway (the change log
   * may not be migrated yet, or the database not reachable): it is logged, shown in poolHealth, and
   * retried with backoff.
   */
  async start(): Promise<void> {
    this.pollTimer = setInterval(() => this.read(), POLL_MS);
    this.pollTimer.unref();
    try {
      await this.connect(true);
    } catch (error) {
      this.state = { ...this.state, status: 'RECONNECTING', lastError: describe(error as Error) };
      this.logger.error('subscriptions: the change listener could not start; retrying (are the migrations applied?)', { reason: describe(error as Error) });
      this.starting = true;
      this.scheduleReconnect();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state.status = 'STOPPED';
    this.state.listeningSince = null;
    clearTimeout(this.retryTimer);
    clearInterval(this.pollTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(first: boolean): Promise<void> {
    const client = new Client({ ...this.clientConfig, application_name: 'taskmaster-gateway-listen', keepAlive: true, query_timeout: 15_000 });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection closed')));
    client.on('notification', (message) => {
      if (message.channel === CHANGE_CHANNEL) this.read();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
      if (first) {
        const { rows } = await client.query<{ seq: string }>(`SELECT coalesce(max(seq), 0)::text AS seq FROM change_log`);
        this.state.lastSeq = Number(rows[0].seq);
      }
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
    if (!first) this.logger.info('subscriptions: change listener reconnected; reading what it missed', { lastSeq: this.state.lastSeq });
    this.read(); // what was committed while no one was listening
  }

  private lost(client: Client, error: Error): void {
    if (this.client !== client || this.stopped) return;
    this.client = undefined;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.state = { ...this.state, status: 'RECONNECTING', listeningSince: null, lastError: describe(error) };
    this.logger.warn('subscriptions: change listener lost its connection; reconnecting', { reason: describe(error) });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt++);
    this.retryTimer = setTimeout(() => {
      const first = this.starting;
      this.connect(first).then(
        () => {
          this.starting = false;
          if (!first && !this.stopped) this.state.reconnects += 1;
        },
        (error: Error) => {
          this.state.lastError = describe(error);
          this.scheduleReconnect();
        },
      );
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
    if (!client) return;
    this.reading = true;
    (async () => {
      do {
        this.readAgain = false;
        for (;;) {
          const { rows } = await client.query(`SELECT ${CHANGE_COLUMNS} FROM change_log WHERE seq > $1 ORDER BY seq LIMIT ${PAGE}`, [this.state.lastSeq]);
          if (rows.length === 0) break;
          const now = Date.now();
          const events = rows.map((row) => ({ ...toChangeEvent(row), receivedAt: now }));
          this.state.lastSeq = events[events.length - 1].seq;
          this.deliver(events);
          if (rows.length < PAGE) break;
        }
      } while (this.readAgain && this.client === client);
      await this.purge(client);
    })()
      .catch((error: Error) => {
        // A broken connection also raises 'error'/'end', which reconnects; the next read starts from lastSeq.
        if (this.client === client) this.logger.warn('subscriptions: reading the change log failed', { reason: describe(error) });
      })
      .finally(() => {
        this.reading = false;
        if (this.readAgain && this.client) this.read();
      });
  }

  /** Deletes change-log rows older than the replay window; purged_through says up to where. */
  private async purge(client: Client): Promise<void> {
    if (Date.now() - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = Date.now();
    await client.query(
      `WITH gone AS (DELETE FROM change_log WHERE occurred_at < now() - make_interval(hours => $1) RETURNING seq)
       UPDATE change_log_state SET purged_through = greatest(purged_through, (SELECT max(seq) FROM gone))
       WHERE id = 1 AND EXISTS (SELECT 1 FROM gone)`,
      [this.replayHours],
    );
  }
}

/** A driver message names no host, port or credentials; keep only its code and first line. */
function describe(error: Error): string {
  const code = (error as { code?: string }).code;
  if (code) return code;
  return String(error.message ?? error).split('\n')[0].replace(/\S+@\S+|\[?[\d.:a-f]+\]?:\d+/gi, '…').slice(0, 200);
}
