import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { BadInputError, DomainError } from '../errors';
import type { SecurityConfig } from './security.config';

export interface SqlResult {
  columns: string[];
  rows: Record<string, unknown>[];
  rowCount: number;
  truncated: boolean;
}

const QUERY_START = /^\s*(select|with|values|table)\b/i;

/**
 * `runSql` for admins: one statement, in a READ ONLY transaction that is always rolled back, under
 * its own statement timeout, returning at most `rowLimit` rows. Off unless RUN_SQL_ENABLED.
 *
 * The statement goes through the extended protocol, which refuses more than one command; queries
 * are read through a cursor, so a huge result is never loaded beyond the cap.
 */
export class SqlConsole {
  constructor(
    private readonly db: DataSource,
    private readonly config: SecurityConfig['runSql'],
  ) {}

  async run(sql: string): Promise<SqlResult> {
    if (!this.config.enabled) {
      throw new DomainError('FORBIDDEN', 'runSql is disabled on this gateway; an operator can enable it with RUN_SQL_ENABLED=true');
    }
    const text = sql.trim().replace(/;\s*$/, '');
    if (text === '') throw new BadInputError('sql', 'is empty');
    const [client, release] = await (this.db.driver as PostgresDriver).obtainMasterConnection();
    let broken = false;
    try {
      await client.query('BEGIN TRANSACTION READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${Math.floor(this.config.statementTimeoutMs)}`);
      const cap = this.config.rowLimit;
      let result;
      if (QUERY_START.test(text)) {
        await client.query({ text: `DECLARE run_sql NO SCROLL CURSOR FOR ${text}`, queryMode: 'extended' });
        result = await client.query(`FETCH FORWARD ${cap + 1} FROM run_sql`);
      } else {
        result = await client.query({ text, queryMode: 'extended' });
      }
      const rows = (result.rows ?? []) as Record<string, unknown>[];
      return {
        columns: (result.fields ?? []).map((f: { name: string }) => f.name),
        rows: rows.slice(0, cap),
        rowCount: Math.min(rows.length, cap),
        truncated: rows.length > cap,
      };
    } catch (error) {
      throw this.explain(error);
    } finally {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      release(broken ? new Error('runSql connection unusable') : undefined);
    }
  }

  private explain(error: unknown): unknown {
    const pg = error as { code?: string; message?: string };
    if (typeof pg?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(pg.code)) return error;
    switch (pg.code) {
      case '57014':
        return new BadInputError('sql', `cancelled: it ran longer than the ${this.config.statementTimeoutMs} ms statement timeout`, { reason: 'statement_timeout' });
      case '25006':
        return new BadInputError('sql', `runSql is read-only: ${pg.message}`, { reason: 'read_only', sqlState: pg.code });
      case '42601':
        if (/multiple commands/i.test(pg.message ?? '')) return new BadInputError('sql', 'runSql takes exactly one statement', { reason: 'multiple_statements', sqlState: pg.code });
        break;
    }
    // The admin's own statement failed: PostgreSQL's message is what they need.
    return new BadInputError('sql', String(pg.message), { sqlState: pg.code });
  }
}
