import DataLoader from 'dataloader';
import type { Services } from '../services';

/**
 * A loader for rows by primary key: one query per tick for all the ids asked, results in key
 * order, `null` for a miss.
 */
export function byIdLoader<T extends { id: string }>(fetch: (ids: readonly string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const byId = new Map((await fetch(ids)).map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/** Built fresh for every request (in the context), so nothing cached leaks between requests. */
export function createLoaders(services: Services) {
  return {
    taskById: byIdLoader((ids) => services.tasks.findByIds(ids)),
    executionById: byIdLoader((ids) => services.executions.findByIds(ids)),
    integrationById: byIdLoader((ids) => services.integrations.findByIds(ids)),
    metricById: byIdLoader((ids) => services.metrics.findByIds(ids)),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
