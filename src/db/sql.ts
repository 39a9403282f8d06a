import type { Pool, QueryResultRow } from 'pg';
import { QueryFailedError, type DataSource } from 'typeorm';
import { connectionFailure, sqlState } from '../errors';

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

/** Escapes LIKE wildcards so that a search for "50%" means the text "50%". */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The PostgreSQL error code and constraint of a failed statement, if it is one. */
export function pgError(error: unknown): { code?: string; constraint?: string } {
  const e = error as { driverError?: { code?: string; constraint?: string }; code?: string; constraint?: string };
  return e?.driverError ?? e ?? {};
}

/** Distinct statements prepared per data source; beyond it statements run unnamed (planned each time). */
export const MAX_PREPARED_STATEMENTS = 500;

/** Runs one statement on a pooled connection (autocommit); `Row` is what its select list makes of a row (see rows.ts). */
export type PreparedQuery = <Row = Record<string, unknown>>(sql: string, params: unknown[]) => Promise<Row[]>;

/**
 * Where a data source's reads may go instead of its own pool (src/db/replicas.ts): `read` runs the
 * statement on a replica when the current request may read from one, falling back to `primary`
 * itself; undefined means "the primary" (a mutation, no request, no replica in rotation).
 */
export interface ReadRouter {
  read<Row>(sql: string, params: unknown[], primary: () => Promise<Row[]>): Promise<Row[]> | undefined;
}
const routers = new WeakMap<DataSource, ReadRouter>();

/** Sends the data source's reads (preparedQuery, rows.query) through `router` from now on. */
export function routeReads(db: DataSource, router: ReadRouter): void {
  routers.set(db, router);
}

/** The router of a data source's reads, if it has replicas. */
export function readRouter(db: DataSource): ReadRouter | undefined {
  return routers.get(db);
}

/** The statement logger's part a runner needs (TypeORM's logger of the primary's data source). */
export type StatementLog = Pick<DataSource['logger'], 'logQuery' | 'logQuerySlow' | 'logQueryError'>;

const ignore = (): void => undefined;

/**
 * A runner of named prepared statements on one pg pool: PostgreSQL parses and plans each text once
 * per connection and then only binds new parameter values. The number of texts prepared is capped,
 * so clients varying their filters cannot fill PostgreSQL's memory with prepared statements.
 */
export function poolRunner(pool: Pool, log: StatementLog, slowMs?: number): PreparedQuery {
  const names = new Map<string, string>();
  return async <Row>(sql: string, params: unknown[]): Promise<Row[]> => {
    let name = names.get(sql);
    if (name === undefined && names.size < MAX_PREPARED_STATEMENTS) names.set(sql, (name = `tm_${names.size}`));
    // As TypeORM's runner does: a failed connect is thrown as it is, a failed statement as a
    // QueryFailedError (with the statement, for the error log) after logQueryError.
    const client = await pool.connect();
    // A checked-out pg client has no 'error' listener of the pool's: the server going away
    // mid-statement would otherwise be an unhandled 'error' event (the statement fails anyway).
    client.on('error', ignore);
    log.logQuery(sql, params);
    const started = performance.now();
    try {
      const result = await client.query<Row & QueryResultRow>({ name, text: sql, values: params });
      const ms = performance.now() - started;
      if (slowMs && ms > slowMs) log.logQuerySlow(ms, sql, params);
      client.off('error', ignore);
      client.release();
      return result.rows;
    } catch (error) {
      // A statement PostgreSQL refused leaves the connection usable; anything else (no answer from
      // PostgreSQL, or a connection failure: connectionFailure in src/errors.ts) is handed back broken.
      const refused = sqlState(error) !== undefined && connectionFailure(error) === undefined;
      client.off('error', ignore);
      client.release(refused ? undefined : (error as Error));
      log.logQueryError(error as Error, sql, params);
      throw new QueryFailedError(sql, params, error as Error);
    }
  };
}

const runners = new WeakMap<DataSource, PreparedQuery>();

/** The primary's runner: writes, and reads no replica may serve. */
export function primaryQuery(db: DataSource): PreparedQuery {
  let runner = runners.get(db);
  if (!runner) {
    const pool = (db.driver as unknown as { master?: Pool }).master;
    runner = !pool
      ? <Row>(sql: string, params: unknown[]): Promise<Row[]> => db.query(sql, params)
      : poolRunner(pool, db.logger, db.options.maxQueryExecutionTime);
    runners.set(db, runner);
  }
  return runner;
}

/**
 * Runs reads as named prepared statements (see poolRunner) on the data source's pg pool, or on a
 * replica when the request may read from one (routeReads). The planner's reads repeat their text
 * per document, and the audited writes (src/audit/audited-statement.ts, through primaryQuery) per
 * mutation and set of fields given; parsing and planning are a large part of running either.
 * Statements still go through TypeORM's logger (X-SQL-Statements, slow-query log).
 */
export function preparedQuery(db: DataSource): PreparedQuery {
  const primary = primaryQuery(db);
  const router = routers.get(db);
  if (!router) return primary;
  return <Row>(sql: string, params: unknown[]): Promise<Row[]> =>
    router.read<Row>(sql, params, () => primary<Row>(sql, params)) ?? primary<Row>(sql, params);
}
