import type { DataSource, EntityTarget } from 'typeorm';
import { ident, readRouter, type Params } from './sql';

/**
 * Typed rows from one place. TypeORM's entity metadata knows every property ↔ column mapping;
 * the hand-written statements (keyset pages, rows by id, audited writes) alias each column
 * to its property name, so a row comes back already shaped like the entity. The maps are worked
 * out once per data source and entity, not per row or per request.
 */

export interface ColumnInfo {
  /** The column's name in the database (snake_case). */
  name: string;
  /** The column type as the entity declares it (`jsonb`, `timestamptz`, ...). */
  type: string;
  nullable: boolean;
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

export class EntityColumns {
  /** Property → column name (what the audited-write builder and filters need). */
  readonly names: ReadonlyMap<string, string>;
  private readonly all = new Map<string, string[]>();

  constructor(
    readonly table: string,
    readonly columns: ReadonlyMap<string, ColumnInfo>,
  ) {
    this.names = new Map([...columns].map(([property, c]) => [property, c.name]));
  }

  /**
   * The select list for the given properties (GraphQL fields), each column aliased to its property
   * name; the id always, a field's `needs` (GraphQL fields that are not columns, and the columns
   * their resolvers read: `parent` → `parentTaskId`) instead of the field, and nothing that is not
   * a column. Without `properties`: every column.
   */
  select(alias: string, properties?: Iterable<string>, needs: Readonly<Record<string, readonly string[]>> = {}): string[] {
    if (!properties) {
      let list = this.all.get(alias);
      if (!list) this.all.set(alias, (list = this.list(alias, this.columns.keys())));
      return list;
    }
    const wanted = new Set<string>(['id']);
    for (const p of properties) for (const q of needs[p] ?? [p]) wanted.add(q);
    return this.list(alias, wanted);
  }

  /**
   * The select list of a statement PostgreSQL turns into JSON (the read planner's): each column
   * aliased to its property, timestamps as ISO-8601 text in UTC, as the DateTime scalar sends them.
   */
  selectAsJson(alias: string, properties: Iterable<string>): string[] {
    const out: string[] = [];
    for (const property of properties) {
      const c = this.columns.get(property);
      if (!c) continue;
      const column = `${alias}.${ident(c.name)}`;
      out.push(`${c.type === 'timestamptz' ? `to_char(${column} AT TIME ZONE 'UTC', ${ISO})` : column} AS ${ident(property)}`);
    }
    return out;
  }

  /**
   * The column and parameter reference for one property's value (JSONB sent as JSON, null as
   * NULL); undefined for a property that is no column or a value not given.
   */
  assign(property: string, value: unknown, p: Params): { column: string; value: string } | undefined {
    const c = this.columns.get(property);
    if (!c || value === undefined) return undefined;
    return { column: ident(c.name), value: value === null ? 'NULL' : c.type === 'jsonb' ? p.json(value) : p.add(value) };
  }

  private list(alias: string, properties: Iterable<string>): string[] {
    const out: string[] = [];
    for (const property of properties) {
      const c = this.columns.get(property);
      if (c) out.push(`${alias}.${ident(c.name)} AS ${ident(property)}`);
    }
    return out;
  }
}

const cache = new WeakMap<DataSource, Map<EntityTarget<unknown>, EntityColumns>>();

/** The columns of an entity from the data source's metadata (so renames and naming follow the entity). */
export function entityColumns(db: DataSource, entity: EntityTarget<unknown>): EntityColumns {
  let byEntity = cache.get(db);
  if (!byEntity) cache.set(db, (byEntity = new Map<EntityTarget<unknown>, EntityColumns>()));
  let columns = byEntity.get(entity);
  if (!columns) {
    const meta = db.getMetadata(entity);
    const infos = meta.columns.map((c): [string, ColumnInfo] => [
      c.propertyName,
      { name: c.databaseName, type: String(c.type), nullable: c.isNullable },
    ]);
    byEntity.set(entity, (columns = new EntityColumns(meta.tableName, new Map(infos))));
  }
  return columns;
}

/**
 * Runs one statement and types its rows. The one place the driver's untyped rows are given a type:
 * `Row` is what the statement's select list makes of a row (`entityColumns(...).select` gives the
 * entity's shape). A read a replica may serve goes to one (src/db/replicas.ts).
 */
export async function query<Row>(db: DataSource, sql: string, params: unknown[] = []): Promise<Row[]> {
  const primary = async (): Promise<Row[]> => {
    const rows: Row[] = await db.query(sql, params);
    return rows;
  };
  return readRouter(db)?.read<Row>(sql, params, primary) ?? primary();
}
