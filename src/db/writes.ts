import { QueryRunnerAlreadyReleasedError, type DataSource, type QueryResult, type QueryRunner } from 'typeorm';
import { OutcomeUnknownError } from '../errors';
import { primaryQuery } from './sql';

/** Runs one statement and returns its rows, on the pool or on a transaction's connection. */
export type RunStatement = (sql: string, params: unknown[]) => Promise<Record<string, unknown>[]>;

export function runnerQuery(runner: QueryRunner): RunStatement {
  return async (sql, params) => {
    // TypeORM types the driver's rows `any`; they are column → value records.
    const result = (await runner.query(sql, params, true)) as QueryResult<Record<string, unknown>>;
    return result.records ?? [];
  };
}

/**
 * A statement on a pooled connection of its own (autocommit), as a named prepared statement
 * (src/db/sql.ts): a connection lost under it is handed back broken there.
 */
export function poolQuery(db: DataSource): RunStatement {
  return primaryQuery(db);
}

/**
 * Gives a connection back to the pool; one whose connection was lost is handed back with the
 * error, so that pg-pool destroys it instead of lending the dead socket to the next request.
 */
export async function releaseRunner(runner: QueryRunner, broken?: unknown): Promise<void> {
  // TypeORM's PostgresQueryRunner takes the error here (documented there, private in its typings)
  const postgres = runner as unknown as { releasePostgresConnection?: (err?: Error) => Promise<void> };
  if (broken !== undefined && typeof postgres.releasePostgresConnection === 'function') {
    await postgres.releasePostgresConnection(broken instanceof Error ? broken : new Error('connection lost', { cause: broken }));
  } else {
    await runner.release();
  }
}

const LOST_CODES = new Set(['57P01', '57P02', '08000', '08003', '08006', '08007', 'ECONNRESET', 'EPIPE']);

/**
 * Whether an error means the connection went away while a statement was in flight (the server
 * terminated the backend, the socket broke): whatever was sent may or may not have committed.
 * Failing to connect (ECONNREFUSED, a pool timeout) is not one: nothing was sent.
 */
export function isConnectionLost(error: unknown): boolean {
  // TypeORM's runner releases itself when its connection emits an error (the server went away
  // between two statements of a transaction): the next statement meets the released runner.
  if (error instanceof QueryRunnerAlreadyReleasedError) return true;
  const e = error as { driverError?: { code?: string; message?: string }; code?: string; message?: string } | undefined;
  const code = e?.driverError?.code ?? e?.code;
  const message = e?.driverError?.message ?? e?.message ?? '';
  return (
    (code !== undefined && LOST_CODES.has(code)) ||
    /Connection terminated|terminating connection|Client has encountered a connection error/i.test(message)
  );
}

/** Runs a write; a connection lost under it becomes OUTCOME_UNKNOWN. */
export async function runWrite(query: RunStatement, statement: { sql: string; params: unknown[] }): Promise<Record<string, unknown>[]> {
  try {
    return await query(statement.sql, statement.params);
  } catch (error) {
    if (isConnectionLost(error)) throw new OutcomeUnknownError();
    throw error;
  }
}

/**
 * Runs `write` in a transaction of its own that first takes the transaction-scoped advisory lock
 * named `lockKey`: writes taking the same lock run one after another, and since READ COMMITTED
 * takes a snapshot per statement, each statement after the lock sees what the one before
 * committed. For a rule over several rows that one statement cannot lock (no cycle of parents).
 */
export async function serializedWrite<T>(db: DataSource, lockKey: string, write: (query: RunStatement) => Promise<T>): Promise<T> {
  const runner = db.createQueryRunner();
  let broken: unknown;
  try {
    await runner.connect();
    await runner.startTransaction();
    const query = runnerQuery(runner);
    await query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey]);
    const result = await write(query);
    await runner.commitTransaction();
    return result;
  } catch (error) {
    const lost = error instanceof OutcomeUnknownError || isConnectionLost(error);
    if (lost) broken = error;
    else if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    if (lost) throw error instanceof OutcomeUnknownError ? error : new OutcomeUnknownError();
    throw error;
  } finally {
    await releaseRunner(runner, broken);
  }
}
