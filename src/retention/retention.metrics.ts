import { Gauge, type Registry } from 'prom-client';
import type { StoreStats } from '../health/pool-health.types';

/** Each store's size and the age of its oldest row, labelled by table. */
export function registerRetentionGauges(registry: Registry, read: () => Promise<StoreStats[]>): void {
  const once = () => read().catch((): StoreStats[] => []);
  new Gauge({
    name: 'taskmaster_store_size_bytes',
    help: 'Size of a growing table (heap, indexes, TOAST, over all its partitions).',
    labelNames: ['store'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const s of await once()) if (s.sizeBytes !== null) this.set({ store: s.store }, s.sizeBytes);
    },
  });
  new Gauge({
    name: 'taskmaster_store_oldest_row_age_seconds',
    help: "Age of a growing table's oldest row (absent when the table is empty).",
    labelNames: ['store'],
    registers: [registry],
    async collect() {
      this.reset();
      const now = Date.now();
      for (const s of await once()) if (s.oldestAt) this.set({ store: s.store }, Math.max(0, (now - s.oldestAt.getTime()) / 1000));
    },
  });
}
