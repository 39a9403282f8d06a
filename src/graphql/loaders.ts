import DataLoader from 'dataloader';

/**
 * The request's DataLoaders, built lazily: each (kind, shape) gets its own loader the first time a
 * resolver asks for it, so a request builds only the loaders it uses. The shape is what the batch
 * depends on besides the key (a relation's arguments, the columns read): all the parents that ask
 * the same thing share one batch — one statement per relation field, whatever the page size.
 * Built fresh for every request (in the context), so nothing cached leaks between requests.
 */
export class Loaders {
  private readonly loaders = new Map<string, DataLoader<unknown, unknown>>();

  get<K, V>(kind: string, shape: unknown, create: () => DataLoader<K, V>): DataLoader<K, V> {
    const key = `${kind}\u0000${JSON.stringify(shape)}`;
    let loader = this.loaders.get(key) as DataLoader<K, V> | undefined;
    if (!loader) this.loaders.set(key, (loader = create()));
    return loader;
  }

  /** Forgets every cached answer of the kinds starting with `prefix` (e.g. "task." after a task changed). */
  clear(prefix: string): void {
    for (const [key, loader] of this.loaders) if (key.startsWith(prefix)) loader.clearAll();
  }
}

export function createLoaders(): Loaders {
  return new Loaders();
}

/**
 * The one by-id loader: rows of `kind` by primary key reading only `fields` (every column when
 * null), one statement per tick for all the ids asked, results in key order, `null` for a miss.
 */
export function byIdLoader<T extends { id: string }>(
  loaders: Loaders,
  kind: string,
  fields: Iterable<string> | null,
  fetch: (ids: readonly string[], fields: string[] | undefined) => Promise<T[]>,
): DataLoader<string, T | null> {
  const cols = fields ? sortedFields(fields) : undefined;
  return loaders.get(
    `${kind}.byId`,
    cols ?? null,
    () =>
      new DataLoader<string, T | null>(async (ids) => {
        const byId = new Map((await fetch(ids, cols)).map((row) => [row.id, row]));
        return ids.map((id) => byId.get(id) ?? null);
      }),
  );
}

/** Field names in a stable order, so that equal selections share a loader. */
export function sortedFields(fields: Iterable<string>): string[] {
  return [...new Set(fields)].sort();
}
