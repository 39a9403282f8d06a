import type { DataSource } from 'typeorm';
import { query } from '../db/rows';
import { CHANGE_COLUMNS, cursorExpired, toChangeEvent, type ChangeEvent } from './change-log';

const REPLAY_PAGE = 500;
/** A subscription that has been catching up from the log (after overflowing its queue) this long is a slow consumer. */
export const SLOW_CONSUMER_AFTER_MS = 30_000;

/** What one subscription wants: a cheap test on the change-log row, and an optional one that may query (a filter). */
export interface ChangeInterest {
  /** The table this subscription listens to, or '*' for all (the hub indexes subscribers by table). */
  table: ChangeEvent['table'] | '*';
  /** SQL condition on change_log (alias c) with $2.. parameters, for replay; must say the same as `matches`. */
  replayWhere: string;
  replayParams: unknown[];
  matches(event: ChangeEvent): boolean;
  /** Checked after `matches`, just before delivery (e.g. a task filter evaluated on the row). */
  accept?(event: ChangeEvent): Promise<boolean>;
  /** Reads what a page of replayed events will need in one statement or two, instead of per event (see sharedRead). */
  prefetch?(events: ChangeEvent[]): Promise<void>;
}

/** What feeds the hub (ChangeListener): it reads the change log only while the hub has subscriptions. */
export interface ChangeFeed {
  /** Start reading from the newest change (before the first subscription registers). */
  activate(): Promise<void>;
  /** Stop reading (the last subscription ended). */
  deactivate(): void;
}

export interface SubscribeOptions {
  /** Replay changes with seq > after first (a decoded cursor). */
  after?: number;
  /** Called when the subscription's queue passes its cap (the consumer is too slow). */
  onOverflow: () => void;
}

/**
 * In-process fan-out of change-log events to the subscriptions of this gateway. Subscribers are
 * indexed by table; each has its own bounded queue. Events are the same objects for every
 * subscriber, so work done once per event (reading the changed row, evaluating a filter shape) is
 * shared through `sharedRead` — authorization stays per subscriber (checked at subscribe time, by
 * role, as for queries).
 */
export class ChangeHub {
  private readonly byTable = new Map<string, Set<ChangeSubscription>>();
  private count = 0;

  constructor(
    private readonly db: DataSource,
    private readonly replayHours: number,
    private readonly maxQueued: number,
    private readonly feed: ChangeFeed,
    /** Called as each live event is handed to a subscription (the delivery-latency histogram). */
    private readonly onDeliver: (event: ChangeEvent) => void = () => undefined,
  ) {}

  get size(): number {
    return this.count;
  }

  /** Events waiting in subscriptions' queues (drain waits for 0). */
  pending(): number {
    let n = 0;
    for (const subs of this.byTable.values()) for (const sub of subs) n += sub.queued;
    return n;
  }

  publish(events: ChangeEvent[]): void {
    for (const event of events) {
      for (const table of [event.table, '*']) {
        const subs = this.byTable.get(table);
        if (subs) for (const sub of subs) if (sub.interest.matches(event)) sub.push(event);
      }
    }
  }

  /**
   * Live events from now on; with `after`, first every matching change since that cursor, then live
   * with no gap and no duplicate: the subscription listens (buffering) before it reads the log, and
   * the buffer is drained skipping what the replay already delivered.
   */
  async subscribe(interest: ChangeInterest, options: SubscribeOptions): Promise<AsyncIterableIterator<ChangeEvent>> {
    if (this.count === 0) await this.feed.activate();
    const sub = new ChangeSubscription(
      interest,
      this.maxQueued,
      options.onOverflow,
      () => this.remove(sub),
      this.onDeliver,
      (after) => this.replayPage(interest, after),
    );
    let set = this.byTable.get(interest.table);
    if (!set) this.byTable.set(interest.table, (set = new Set()));
    set.add(sub);
    this.count += 1;
    if (options.after !== undefined) {
      try {
        await this.checkWindow(options.after);
      } catch (error) {
        await sub.return();
        throw error;
      }
      sub.startReplay(options.after);
    }
    return sub;
  }

  private remove(sub: ChangeSubscription): void {
    if (!this.byTable.get(sub.interest.table)?.delete(sub)) return;
    this.count -= 1;
    if (this.count === 0) this.feed.deactivate();
  }

  private async checkWindow(after: number): Promise<void> {
    const [state] = await query<{ purged: string }>(this.db, `SELECT purged_through::text AS purged FROM change_log_state WHERE id = 1`);
    if (after < Number(state?.purged ?? 0)) throw cursorExpired(this.replayHours);
  }

  private async replayPage(interest: ChangeInterest, after: number): Promise<{ events: ChangeEvent[]; last: number; full: boolean }> {
    // Every row after the cursor counts for `last` (so a page of non-matching rows still advances),
    // but only matching rows are returned.
    const rows = await query<Record<string, unknown> & { seq: string; __match: boolean }>(
      this.db,
      `SELECT ${CHANGE_COLUMNS}, (${interest.table === '*' ? 'TRUE' : `c.table_name = '${interest.table}'`} AND ${interest.replayWhere}) AS "__match"
       FROM change_log c WHERE c.seq > $1 ORDER BY c.seq LIMIT ${REPLAY_PAGE}`,
      [after, ...interest.replayParams],
    );
    // The rows read were complete unless the window moved past the cursor meanwhile.
    await this.checkWindow(after);
    const last = rows.length > 0 ? Number(rows[rows.length - 1].seq) : after;
    const events = rows.filter((r) => r.__match).map(({ __match, ...r }) => toChangeEvent(r));
    return { events, last, full: rows.length === REPLAY_PAGE };
  }
}

type PageReader = (after: number) => Promise<{ events: ChangeEvent[]; last: number; full: boolean }>;

/**
 * One subscription's queue, as an async iterator. While replaying, live events wait in a buffer;
 * if the buffer overflows it is dropped and the replay simply reads further in the log (it is all
 * there), going live only after a short page read with no overflow since it started. A live queue
 * that overflows (a burst: a bulk UPDATE of thousands of rows) is dropped the same way and the
 * subscription catches up from the log, so memory stays bounded without closing anyone; one that is
 * still behind after SLOW_CONSUMER_AFTER_MS is a slow consumer (`onOverflow`).
 */
class ChangeSubscription implements AsyncIterableIterator<ChangeEvent> {
  private queue: ChangeEvent[] = [];
  private buffer: ChangeEvent[] | null = null;
  private overflows = 0;
  private replay?: { after: number };
  /** Live events with seq <= this were delivered by the replay. */
  private delivered = 0;
  /** The seq of the last event taken from the queue (or the cursor): catching up restarts after it. */
  private consumed = 0;
  /** Since when this subscription has been catching up after an overflow. */
  private behindSince?: number;
  private waiter?: () => void;
  private done = false;

  constructor(
    readonly interest: ChangeInterest,
    private readonly maxQueued: number,
    private readonly onOverflow: () => void,
    private readonly unregister: () => void,
    private readonly onDeliver: (event: ChangeEvent) => void,
    private readonly read: PageReader,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  startReplay(after: number): void {
    this.replay = { after };
    this.consumed = after;
    this.buffer = [];
  }

  push(event: ChangeEvent): void {
    if (this.done) return;
    if (this.buffer) {
      this.buffer.push(event);
      if (this.buffer.length > this.maxQueued) {
        this.buffer = [];
        this.overflows += 1;
        this.checkSlow();
      }
      return;
    }
    if (event.seq <= this.delivered) return;
    this.queue.push(event);
    if (this.queue.length > this.maxQueued) {
      this.behindSince ??= Date.now();
      if (this.checkSlow()) return;
      this.queue = [];
      this.startReplay(this.consumed);
    }
    this.wake();
  }

  /** Closes a subscription that has been behind for too long; true when it did. */
  private checkSlow(): boolean {
    if (this.behindSince === undefined || Date.now() - this.behindSince <= SLOW_CONSUMER_AFTER_MS) return false;
    this.onOverflow();
    void this.return();
    return true;
  }

  async next(): Promise<IteratorResult<ChangeEvent>> {
    for (;;) {
      if (this.done) return { done: true, value: undefined };
      if (this.queue.length === 0 && this.replay) await this.replayMore();
      const event = this.queue.shift();
      if (event) {
        this.consumed = event.seq;
        if (this.interest.accept && !(await this.interest.accept(event))) continue;
        if (this.done) return { done: true, value: undefined };
        if (event.receivedAt !== undefined) this.onDeliver(event); // live, not replayed
        return { done: false, value: event };
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private async replayMore(): Promise<void> {
    const replay = this.replay!;
    const overflowsBefore = this.overflows;
    const page = await this.read(replay.after);
    if (page.events.length > 0) await this.interest.prefetch?.(page.events);
    replay.after = page.last;
    this.queue.push(...page.events);
    this.delivered = page.last;
    if (page.full || this.overflows !== overflowsBefore) return;
    // Caught up: everything committed before that read was in it; everything after is in the buffer.
    const buffered = this.buffer ?? [];
    this.buffer = null;
    this.replay = undefined;
    this.behindSince = undefined;
    for (const event of buffered) if (event.seq > this.delivered) this.queue.push(event);
  }

  async return(): Promise<IteratorResult<ChangeEvent>> {
    if (!this.done) {
      this.done = true;
      this.queue = [];
      this.buffer = null;
      this.unregister();
      this.wake();
    }
    return { done: true, value: undefined };
  }

  async throw(error: unknown): Promise<IteratorResult<ChangeEvent>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ChangeEvent> {
    return this;
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}

/**
 * A value computed once per event and shared by every subscriber on this gateway that asks for the
 * same key (the changed row, a filter verdict). Replayed events are read per subscriber, so they
 * share nothing.
 */
export function sharedRead<T>(event: ChangeEvent, key: string, read: () => Promise<T>): Promise<T> {
  const memo = ((event as ChangeEvent & { __memo?: Map<string, Promise<unknown>> }).__memo ??= new Map());
  let value = memo.get(key) as Promise<T> | undefined;
  if (!value) memo.set(key, (value = read()));
  return value;
}
