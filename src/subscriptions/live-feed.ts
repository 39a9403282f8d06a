import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import { pgSettings } from '../db/data-source';
import { query } from '../db/rows';
import type { Logger } from '../logger';
import { ChangeHub } from './change-hub';
import { ChangeListener } from './change-listener';
import { SEQUENCE_CHANGES } from './change-log';
import type { LiveMetrics } from './ws-metrics';

/** One table's changes from now (claimTask's waitSeconds): `wait` resolves at the next change or after `ms`. */
export interface ChangeWatch {
  wait(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * The change log's events for this instance: read on one dedicated connection while this instance
 * has a live subscription (ChangeListener), and fanned out in process (ChangeHub). Started.
 */
export async function startLiveFeed(
  config: Config,
  logger: Logger,
  db: DataSource,
  metrics: LiveMetrics,
): Promise<{ listener: ChangeListener; hub: ChangeHub }> {
  const sc = config.subscriptions;
  const listener = new ChangeListener({
    clientConfig: pgSettings(config.db),
    replayHours: sc.replayHours,
    pollMs: sc.pollMs,
    logger,
    head: async () => {
      // What was committed before now gets a seq <= the head: numbered by this call, or by the one
      // running meanwhile (null), which commits within milliseconds; then this call numbers the rest.
      for (let tries = 0; tries < 100; tries++) {
        if ((await query<{ n: string | null }>(db, SEQUENCE_CHANGES))[0].n !== null) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      return Number((await query<{ seq: string }>(db, `SELECT coalesce(max(seq), 0)::text AS seq FROM change_log`))[0].seq);
    },
    deliver: (events) => hub.publish(events),
    onRead: () => metrics.logRead(),
  });
  const hub = new ChangeHub(db, sc.replayHours, sc.maxQueuedEvents, listener, (event) => metrics.delivered(event));
  await listener.start();
  return { listener, hub };
}

/** Watches one table's changes from now, for a caller that is not a subscription (the task queue). */
export async function watchTable(hub: ChangeHub, table: 'tasks'): Promise<ChangeWatch> {
  const events = await hub.subscribe(
    { table, replayWhere: 'TRUE', replayParams: [], matches: () => true },
    { onOverflow: () => undefined },
  );
  let next: Promise<unknown> | undefined;
  return {
    async wait(ms) {
      next ??= events.next().finally(() => (next = undefined));
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([next, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
      clearTimeout(timer);
    },
    async close() {
      await events.return?.();
    },
  };
}
