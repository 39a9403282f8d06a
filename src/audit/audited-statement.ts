import type { DataSource, EntityTarget } from 'typeorm';
import { NotFoundError, StaleVersionError } from '../errors';
import type { RequestScope } from '../request';
import { entityColumns, type ColumnInfo } from '../db/rows';
import { ident, Params } from '../db/sql';
import { poolQuery, runWrite } from '../db/writes';

/** Masks a secret field's value in an audit row. */
export const MASKED = '[secret]';
/** Fields that hold secrets wherever they appear, besides those a table names. */
export const ALWAYS_SECRET = ['configuration', 'tokenHash', 'token', 'password', 'secret'];

/**
 * A table written through the gateway: its columns (property -> column, from the entity), which
 * properties never leave the database (credentials), which are masked in the audit trail, and
 * whether rows carry a `version` that every change bumps.
 */
export interface WrittenTable {
  table: string;
  /** The audit log's name for it, e.g. "task". */
  entity: string;
  columns: ReadonlyMap<string, string>;
  /** Property -> the column's name, type and nullability (the audit diff needs the types). */
  info: ReadonlyMap<string, ColumnInfo>;
  hidden: readonly string[];
  secret: readonly string[];
  versioned: boolean;
}

export function writtenTable(
  db: DataSource,
  target: EntityTarget<unknown>,
  entity: string,
  options: { hidden?: string[]; secret?: string[] } = {},
): WrittenTable {
  const { names: columns, columns: info, table } = entityColumns(db, target);
  return {
    table,
    entity,
    columns,
    info,
    hidden: options.hidden ?? [],
    // only the table's own properties: a diff's keys are its columns
    secret: [...new Set([...ALWAYS_SECRET, ...(options.secret ?? [])])].filter((prop) => columns.has(prop)),
    versioned: columns.has('version'),
  };
}

interface Common {
  /** The mutation, e.g. "updateTaskStatus". */
  operation: string;
  /** Parameters the SQL fragments refer to (the builder adds its own after them). */
  params: Params;
}

export interface InsertWrite extends Common {
  kind: 'insert';
  /** `INSERT INTO <table> AS w (...) VALUES (...)` or `... SELECT ...`, without RETURNING. */
  insert: string;
  /** One audit row for all the inserted rows (a batch): changes = { count: { before: null, after: n } }. */
  summarize?: boolean;
  /** Instead of the rows: a SELECT over `changed` (e.g. `SELECT count(*)::int AS count FROM changed`). */
  select?: string;
}

export interface UpdateWrite extends Common {
  kind: 'update';
  /** The row's id (a parameter reference such as `$1::uuid`). */
  id: string;
  /** Assignments; `o` is the row as locked by this statement (the before-image). */
  set: string[];
  /** Conditions on `o` under which the change applies (state machine, no-op, ...). */
  where?: string[];
  /** Applies only if the row's version is still this (optimistic concurrency). */
  expectedVersion?: number | null;
  /** Instead of the field diff: a jsonb expression for `changes` (e.g. a summary of a log append). */
  changes?: string;
  /**
   * More data-modifying CTEs of the same statement, run only with the change: `name AS (...)`
   * over `changed c` (the row as changed) and `locked o` (e.g. a log append's INSERT of entries).
   */
  with?: string;
}

export interface DeleteWrite extends Common {
  kind: 'delete';
  id: string;
  where?: string[];
  expectedVersion?: number | null;
}

export type AuditedWrite = InsertWrite | UpdateWrite | DeleteWrite;

/**
 * The one write path for audited tables: ONE statement that changes the row and writes its audit
 * row (data-modifying CTEs), atomic and in one round trip.
 *
 * Updates and deletes lock the row first (`locked`: SELECT ... FOR UPDATE, which waits for a
 * concurrent writer and then sees the row as that writer left it); the change joins `locked` and
 * the audit row diffs `locked` against the new row. So the before-image is exactly the row the
 * change replaced, and a row's audit entries form a chain: each entry's before is the previous
 * entry's after. `seen` is the same row in the statement's snapshot (as it was when the request
 * reached the database): when the conditions refuse the change, the statement returns the row as
 * it is now (`current`) with `seen`, so the caller can tell a lost race (the row changed while we
 * waited) from a request that was wrong from the start, without another round trip.
 *
 * A statement that changes nothing writes no audit row. Versioned tables get `version + 1` and
 * `updated_at = now()` on every change. The audit row's time is `clock_timestamp()`, taken after
 * the lock, so entries of one row sort in the order the changes were made.
 */
export function auditedStatement(scope: RequestScope, table: WrittenTable, write: AuditedWrite): { sql: string; params: unknown[] } {
  const p = write.params;
  // Inside the statement rows keep their column names (so `o.completed_at` reads as in SQL); the
  // audit trail and the caller get property names (completedAt), as the GraphQL API spells them.
  // These lists depend only on the table and the alias: built once per table.
  const visible = () => [...table.columns].filter(([prop]) => !table.hidden.includes(prop));
  const image = (alias: string) =>
    fragment(table, `image ${alias}`, () => [...table.columns.values()].map((col) => `${alias}.${ident(col)}`).join(', '));
  const json = (alias: string, withHidden = true) =>
    fragment(
      table,
      `json ${alias} ${withHidden}`,
      () =>
        `jsonb_build_object(${(withHidden ? [...table.columns] : visible()).map(([prop, col]) => `'${prop}', ${alias}.${ident(col)}`).join(', ')})`,
    );
  const output = (alias: string) =>
    fragment(table, `output ${alias}`, () =>
      visible()
        .map(([prop, col]) => `${alias}.${ident(col)} AS ${ident(prop)}`)
        .join(', '),
    );
  const { principal } = scope;
  const actor = [principal.kind, principal.id, principal.name, principal.role, write.operation, table.entity]
    .map((v) => p.add(v))
    .join(', ');
  const requestId = `${p.add(scope.requestId)}, ${p.add(scope.serverRequestId ?? null)}::uuid`;
  const auditColumns =
    'occurred_at, actor_kind, actor_id, actor_name, actor_role, operation, entity, entity_id, changes, request_id, server_request_id';

  if (write.kind === 'insert') {
    const audit = write.summarize
      ? `INSERT INTO audit_log (${auditColumns})
           SELECT clock_timestamp(), ${actor}, NULL, jsonb_build_object('count', jsonb_build_object('before', NULL, 'after', count(*))), ${requestId}
           FROM changed HAVING count(*) > 0`
      : `INSERT INTO audit_log (${auditColumns})
           SELECT clock_timestamp(), ${actor}, c."id"::text, ${fragment(table, 'created', () => diffSql(table, null, 'c'))}, ${requestId} FROM changed c`;
    return {
      sql: `WITH changed AS (${write.insert} RETURNING ${image('w')}),
        audit_row AS (${audit})
        ${write.select ?? `SELECT 'changed' AS "__outcome", ${output('c')} FROM changed c`}`,
      params: p.values,
    };
  }

  const where = [`w."id" = o."id"`, ...(write.where ?? [])];
  if (write.expectedVersion != null) where.push(`o."version" = ${p.add(write.expectedVersion)}::int`);
  let change: string;
  let diff: string;
  let also = '';
  if (write.kind === 'update') {
    if (write.with) also = `${write.with},`;
    const set = [...write.set];
    if (table.versioned) set.push(`"version" = o."version" + 1`);
    if (table.columns.has('updatedAt')) set.push(`${ident(table.columns.get('updatedAt') as string)} = now()`);
    change = `UPDATE ${table.table} AS w SET ${set.join(', ')} FROM locked o WHERE ${where.join(' AND ')} RETURNING ${image('w')}`;
    diff = write.changes ?? fragment(table, 'updated', () => diffSql(table, 'o', 'c'));
  } else {
    change = `DELETE FROM ${table.table} AS w USING locked o WHERE ${where.join(' AND ')} RETURNING ${image('w')}`;
    diff = fragment(table, 'deleted', () => diffSql(table, 'o', null));
  }
  const row = `SELECT ${image('r')} FROM ${table.table} r WHERE r."id" = ${write.id}`;
  return {
    sql: `WITH seen AS (${row}),
      locked AS (${row} FOR UPDATE),
      changed AS (${change}),${also}
      audit_row AS (
        INSERT INTO audit_log (${auditColumns})
        SELECT clock_timestamp(), ${actor}, d.id, d.changes, ${requestId}
        FROM (SELECT c."id"::text AS id, ${diff} AS changes FROM changed c JOIN locked o ON o."id" = c."id") d
        WHERE d.changes <> '{}'::jsonb)
      SELECT 'changed' AS "__outcome", NULL::jsonb AS "__seen", ${output('c')} FROM changed c
      UNION ALL
      SELECT 'current', (SELECT ${json('s', false)} FROM seen s), ${output('o')} FROM locked o WHERE NOT EXISTS (SELECT 1 FROM changed)`,
    params: p.values,
  };
}

const fragments = new WeakMap<WrittenTable, Map<string, string>>();

/** A piece of SQL that depends only on the table, built on first use. */
export function fragment(table: WrittenTable, key: string, build: () => string): string {
  let byKey = fragments.get(table);
  if (!byKey) fragments.set(table, (byKey = new Map<string, string>()));
  let sql = byKey.get(key);
  if (sql === undefined) byKey.set(key, (sql = build()));
  return sql;
}

/**
 * The one diff of the audit trail: `{ field: { before, after } }` for every field whose JSON value
 * differs between the row as it was (`before`, an alias; null for a creation) and as it is
 * (`after`; null for a deletion), so a creation or deletion lists every field that is not null; the
 * `secret` fields masked. Written inline, column by column: one object of every field's pair, less
 * the fields that did not change. PostgreSQL works that out from the columns as they are, without
 * building a JSON image of each row and walking it (jsonb_each): a third less CPU per created row,
 * nearly half less per updated row (bench/audit-diff-cpu.cjs; bench/RESULTS.md, round 10).
 */
export function diffSql(table: WrittenTable, before: string | null, after: string | null): string {
  const pairs: string[] = [];
  const unchanged: string[] = [];
  for (const [prop, c] of table.info) {
    const name = `'${prop.replace(/'/g, "''")}'`;
    const col = (alias: string) => `${alias}.${ident(c.name)}`;
    // JSON null and SQL NULL are the same value in the trail (no field to list, nothing changed).
    const isNull = (alias: string) => (c.type === 'jsonb' ? `coalesce(${col(alias)}, 'null') = 'null'` : `${col(alias)} IS NULL`);
    const secret = table.secret.includes(prop);
    const value = (alias: string | null) =>
      alias === null ? 'NULL' : secret ? `CASE WHEN ${isNull(alias)} THEN NULL ELSE to_jsonb('${MASKED}'::text) END` : col(alias);
    pairs.push(`${name}, jsonb_build_object('before', ${value(before)}, 'after', ${value(after)})`);
    if (before === null || after === null) unchanged.push(`CASE WHEN ${isNull((before ?? after) as string)} THEN ${name} END`);
    else {
      const same =
        c.type === 'jsonb'
          ? `coalesce(${col(before)}, 'null') = coalesce(${col(after)}, 'null')`
          : `${col(before)} IS NOT DISTINCT FROM ${col(after)}`;
      unchanged.push(`CASE WHEN ${same} THEN ${name} END`);
    }
  }
  // jsonb - text[] skips the array's NULLs (the fields that changed)
  return `(jsonb_build_object(${pairs.join(', ')}) - ARRAY[${unchanged.join(', ')}]::text[])`;
}

/** What an audited update or delete did: the row as changed, or as it is now and as the request found it. */
export type WriteOutcome<T> =
  { changed: true; row: T } | { changed: false; current: T; seen: T | null } | { changed: false; current: null; seen: null };

/**
 * The row a versioned update or delete changed. When it changed nothing: NOT_FOUND if the row is
 * gone, CONFLICT if it is not at `expectedVersion`; otherwise the row as it is now and as the
 * request found it, for the caller to say why.
 */
export function changedRow<T extends { version: number; status?: string | null }>(
  outcome: WriteOutcome<T>,
  entity: string,
  id: string,
  expectedVersion: number | null | undefined,
): { row: T } | { current: T; seen: T | null } {
  if (outcome.changed) return { row: outcome.row };
  const { current, seen } = outcome;
  if (!current) throw new NotFoundError(entity, id);
  if (expectedVersion != null && current.version !== expectedVersion) throw new StaleVersionError(entity, current, expectedVersion);
  return { current, seen };
}

export function outcomeOf<T>(rows: Record<string, unknown>[]): WriteOutcome<T> {
  const [first] = rows;
  if (!first) return { changed: false, current: null, seen: null };
  const { __outcome, __seen, ...row } = first;
  return __outcome === 'changed' ? { changed: true, row: row as T } : { changed: false, current: row as T, seen: (__seen as T) ?? null };
}

/** The rows an audited insert returned, without the statement's bookkeeping column. */
export function insertedRows<T>(rows: Record<string, unknown>[]): T[] {
  return rows.map(({ __outcome: _, ...row }) => row as T);
}

/** Deletes one row by id in one audited statement and returns it as it was; NOT_FOUND (naming `noun`) when there is none. */
export async function auditedDelete<T>(
  db: DataSource,
  scope: RequestScope,
  table: WrittenTable,
  operation: string,
  noun: string,
  id: string,
): Promise<T> {
  const p = new Params();
  const statement = auditedStatement(scope, table, { kind: 'delete', operation, id: `${p.add(id)}::uuid`, params: p });
  const outcome = outcomeOf<T>(await runWrite(poolQuery(db), statement));
  if (!outcome.changed) throw new NotFoundError(noun, id);
  return outcome.row;
}
