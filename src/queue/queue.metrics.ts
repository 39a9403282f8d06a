import { Gauge, type Registry } from 'prom-client';
import type { QueueStatsResult } from './queue.service';

/** queueStats as /metrics gauges, read once per scrape (the four task gauges share one read). */
export function registerQueueGauges(registry: Registry, read: () => Promise<QueueStatsResult>): void {
  // A scrape must answer while the database is away (probes, outage alerts): then the gauges are empty.
  const none: QueueStatsResult = { byTaskType: [], runningByAgentType: [], oldestReadyAgeSeconds: null, leasesExpiredLastHour: 0 };
  let pending: Promise<QueueStatsResult> | undefined;
  const once = () =>
    (pending ??= read()
      .catch(() => none)
      .finally(() => setTimeout(() => (pending = undefined), 100).unref()));
  for (const state of ['ready', 'blocked', 'delayed', 'running'] as const) {
    new Gauge({
      name: `taskmaster_queue_tasks_${state}`,
      help: `Open tasks ${state} (claimTask's queue), by task type.`,
      labelNames: ['task_type'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const row of (await once()).byTaskType) this.set({ task_type: row.taskType }, row[state]);
      },
    });
  }
  new Gauge({
    name: 'taskmaster_queue_oldest_ready_age_seconds',
    help: 'Age of the oldest ready task (0 when none is ready).',
    registers: [registry],
    async collect() {
      this.set((await once()).oldestReadyAgeSeconds ?? 0);
    },
  });
  new Gauge({
    name: 'taskmaster_queue_leases_expired_last_hour',
    help: 'Executions the reaper FAILED with LEASE_EXPIRED in the last hour.',
    registers: [registry],
    async collect() {
      this.set((await once()).leasesExpiredLastHour);
    },
  });
}
