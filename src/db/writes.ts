import type { DataSource, QueryResult, QueryRunner } from 'typeorm';
import { connectionFailure, OutcomeUnknownError } from '../errors';
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

/** Runs a write; a connection lost under it (connectionFailure, src/errors.ts) becomes OUTCOME_UNKNOWN: it may or may not have committed. */
export async function runWrite(query: RunStatement, statement: { sql: string; params: unknown[] }): Promise<Record<string, unknown>[]> {
  try {
    return await query(statement.sql, statement.params);
  } catch (error) {
    if (connectionFailure(error) === 'lost') throw new OutcomeUnknownError();
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
    const lost = error instanceof OutcomeUnknownError || connectionFailure(error) === 'lost';
    if (lost) broken = error;
    else if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
    if (lost) throw error instanceof OutcomeUnknownError ? error : new OutcomeUnknownError();
    throw error;
  } finally {
    await releaseRunner(runner, broken);
  }
}
