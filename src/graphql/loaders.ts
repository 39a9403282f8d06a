import DataLoader from 'dataloader';
import type { GatewayServices as Services } from './features';

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

/**
 * Loaders whose batch depends on more than the key: the relation's arguments and the columns the
 * query selects. Each (kind, arguments, columns) gets its own DataLoader, so all the parents that
 * ask the same thing share one batch — one statement per relation field, whatever the page size.
 */
export class LoaderRegistry {
  private readonly loaders = new Map<string, DataLoader<any, any>>();

  get<K, V>(kind: string, shape: unknown, create: () => DataLoader<K, V>): DataLoader<K, V> {
    const key = `${kind}\u0000${JSON.stringify(shape)}`;
    let loader = this.loaders.get(key);
    if (!loader) this.loaders.set(key, (loader = create()));
    return loader;
  }

  /** Forgets every cached answer of the kinds starting with `prefix` (e.g. "task." after a task changed). */
  clear(prefix: string): void {
    for (const [key, loader] of this.loaders) if (key.startsWith(prefix)) loader.clearAll();
  }
}

/** Built fresh for every request (in the context), so nothing cached leaks between requests. */
export function createLoaders(services: Services) {
  return {
    taskById: byIdLoader((ids) => services.tasks.findByIds(ids)),
    executionById: byIdLoader((ids) => services.executions.findByIds(ids)),
    integrationById: byIdLoader((ids) => services.integrations.findByIds(ids)),
    metricById: byIdLoader((ids) => services.metrics.findByIds(ids)),
    /** Relation loaders keyed by arguments and selected columns (see the feature `*.loaders.ts`). */
    relations: new LoaderRegistry(),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
