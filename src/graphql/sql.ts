import type { DataSource, EntityTarget } from 'typeorm';

/** Positional parameters for one hand-written statement: `p.add(value)` returns `$n`. */
export class Params {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }

  /** A JSONB parameter: pg would send a JS array as a PostgreSQL array, so JSON is sent as text. */
  json(value: unknown): string {
    return `${this.add(JSON.stringify(value))}::jsonb`;
  }
}

/** Double-quotes an identifier that comes from our own metadata (never from a client). */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Property name → column name for an entity, from TypeORM's metadata (so renames follow the entity). */
export function columnMap(db: DataSource, entity: EntityTarget<unknown>): Map<string, string> {
  return new Map(db.getMetadata(entity).columns.map((c) => [c.propertyName, c.databaseName]));
}

/**
 * The select list for the given entity properties, aliased to the property names so that a raw
 * row is already shaped like the entity. Properties that are not columns are ignored.
 */
export function selectList(columns: Map<string, string>, alias: string, properties: Iterable<string>): string[] {
  const list: string[] = [];
  for (const property of new Set(properties)) {
    const column = columns.get(property);
    if (column) list.push(`${alias}.${ident(column)} AS ${ident(property)}`);
  }
  return list;
}

/** Escapes LIKE wildcards so that a search for "50%" means the text "50%". */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Runs one statement and returns its rows and row count, whatever the command (UPDATE ... RETURNING included). */
export async function run<T = Record<string, any>>(db: DataSource, sql: string, params: unknown[] = []): Promise<{ rows: T[]; affected: number }> {
  const runner = db.createQueryRunner();
  try {
    const result = await runner.query(sql, params, true);
    return { rows: (result.records ?? []) as T[], affected: result.affected ?? 0 };
  } finally {
    await runner.release();
  }
}

/** The PostgreSQL error code and constraint of a failed statement, if it is one. */
export function pgError(error: unknown): { code?: string; constraint?: string } {
  const e = error as { driverError?: { code?: string; constraint?: string }; code?: string; constraint?: string };
  return e?.driverError ?? e ?? {};
}
