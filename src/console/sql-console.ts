import { Pool, type PoolClient, type QueryArrayConfig, type QueryArrayResult, type QueryConfig } from 'pg';
import type { DatabaseConfig } from '../config';
import { ConfigError } from '../config';
import { pgSettings } from '../db/data-source';
import { BadInputError, DomainError } from '../errors';
import type { Logger } from '../logger';
import { countStatement } from '../request';
import { inspectConsoleRole } from '../db/database-roles';
import type { SecurityConfig } from '../config';
import { checkStatement, WRAPPABLE_KEYWORDS } from './sql-statement';

export type SqlTruncation = 'ROWS' | 'CELL_BYTES' | 'ANSWER_BYTES';

/**
 * A statement sent with the extended protocol (parse, bind, execute), which takes one statement
 * only: PostgreSQL itself refuses `a; b`. pg reads `queryMode`; @types/pg does not declare it.
 */
type Extended<C extends QueryConfig> = C & { queryMode: 'extended' };

export interface SqlResult {
  columns: string[];
  rows: Record<string, unknown>[];
  rowCount: number;
  /** True when anything was cut: rows beyond the cap, a long cell, or the answer's size. */
  truncated: boolean;
  truncatedBy: SqlTruncation[];
  /** Cells cut to `cellBytes`, as { row, column }. */
  truncatedCells: { row: number; column: string }[];
}

/** Types whose text is short whatever the value: passed through unwrapped (and keep their JSON type). */
const SHORT_TYPES = new Set([16, 20, 21, 23, 26, 700, 701, 1082, 1083, 1114, 1184, 1186, 2950]);

/** Connections of the console's own pool: more concurrent runSql calls wait, then are RATE_LIMITED. */
const CONSOLE_CONNECTIONS = 2;

const FIX =
  'create the console role with `npm run db:init` (or docker/roles.sql) and set RUN_SQL_DATABASE_URL=postgres://taskmaster_console:<password>@<host>:5432/<database>';

/**
 * `runSql` for admins: one query, as the console role on its own connection (RUN_SQL_DATABASE_URL),
 * in a READ ONLY transaction that is always rolled back, under a statement timeout, with caps on
 * rows, bytes per cell and bytes per answer. What the console may do is decided by the role's
 * privileges first (db/database-roles.ts); `checkStatement` refuses COPY, DO, CALL, SET, file functions and
 * several statements before anything is sent. A long cell is cut in SQL (`left(col::text, cap)`),
 * so a 100 MB value never reaches this process whole.
 */
export class SqlConsole {
  private pool?: Pool;
  /** Set by `checkRole` when the console's role is unfit: runSql then answers FORBIDDEN with it. */
  private refusal?: string;

  constructor(
    private readonly config: SecurityConfig['runSql'],
    private readonly db: DatabaseConfig,
  ) {}

  private connect(): Promise<PoolClient> {
    if (!this.pool) {
      const gateway = pgSettings(this.db);
      this.pool = new Pool({
        ...(this.config.databaseUrl ? { connectionString: this.config.databaseUrl, ssl: gateway.ssl } : gateway),
        max: CONSOLE_CONNECTIONS,
        idleTimeoutMillis: 10_000,
        connectionTimeoutMillis: this.db.pool.connectionTimeoutMs,
        application_name: 'taskmaster-gateway runSql',
      });
      this.pool.on('error', () => undefined); // an idle connection lost; the next call opens another
    }
    return this.pool.connect();
  }

  /**
   * At start-up, when runSql is on: is its role fit (not a superuser, cannot become one, no file
   * roles or functions, cannot read tokens or credentials)? In production an unfit role stops the
   * gateway, naming the fix; elsewhere runSql is refused per call, unless RUN_SQL_ALLOW_SUPERUSER.
   */
  async checkRole(isProduction: boolean, logger: Logger): Promise<void> {
    if (!this.config.enabled) return;
    const client = await this.connect();
    let report;
    try {
      report = await inspectConsoleRole(client);
    } finally {
      client.release();
    }
    if (report.cautions.length > 0) {
      logger.warn(
        `runSql's database user "${report.user}" may execute ${report.cautions.length} function(s) whose effect outlives the statement (${report.cautions.slice(0, 3).join(', ')}, ...): runSql's statement check refuses them; to take them away, run npm run db:init as a superuser (docs/security.md)`,
      );
    }
    if (report.problems.length === 0) return;
    const message = `runSql would run as the database user "${report.user}", which ${report.problems.join('; ')}. To fix it, ${FIX}`;
    if (isProduction) throw new ConfigError('RUN_SQL_DATABASE_URL', message);
    if (this.config.allowSuperuser) {
      logger.warn(`${message} (allowed by RUN_SQL_ALLOW_SUPERUSER outside production)`);
      return;
    }
    this.refusal = message;
    logger.warn(`${message}; until then runSql answers FORBIDDEN (RUN_SQL_ALLOW_SUPERUSER=true allows it outside production)`);
  }

  async run(sql: string): Promise<SqlResult> {
    if (!this.config.enabled) {
      throw new DomainError('FORBIDDEN', 'runSql is disabled on this gateway; an operator can enable it with RUN_SQL_ENABLED=true');
    }
    if (this.refusal) throw new DomainError('FORBIDDEN', this.refusal);
    const statement = checkStatement(sql);
    const client = await this.connect().catch((error: unknown) => {
      // The console's own small pool is full: the admin's limit, not an outage of the gateway (/ready ignores it).
      if (error instanceof Error && /timeout exceeded when trying to connect/i.test(error.message))
        throw new DomainError(
          'RATE_LIMITED',
          `the SQL console is busy: its ${CONSOLE_CONNECTIONS} connections are running statements; retry when one ends`,
          {
            reason: 'console_busy',
          },
        );
      throw error;
    });
    let broken = false;
    try {
      // Its own pool, not TypeORM's logger: each statement is counted here (X-SQL-Statements, budget refunds).
      countStatement();
      await client.query('BEGIN TRANSACTION READ ONLY');
      countStatement();
      await client.query(`SET LOCAL statement_timeout = ${Math.floor(this.config.statementTimeoutMs)}`);
      countStatement();
      await client.query(`SET LOCAL work_mem = ${Math.floor(this.config.workMemKb)}`);
      const cap = this.config.rowLimit;
      let result: QueryArrayResult<unknown[]>;
      let wrapped: { columns: string[]; long: boolean[] } | undefined;
      if (WRAPPABLE_KEYWORDS.has(statement.keyword)) {
        wrapped = await this.describe(client, statement.text);
        const query = wrapped ? this.wrap(statement.text, wrapped.long) : statement.text;
        const declare: Extended<QueryConfig> = { text: `DECLARE run_sql NO SCROLL CURSOR FOR ${query}`, queryMode: 'extended' };
        countStatement();
        await client.query(declare);
        countStatement();
        result = await client.query<unknown[]>({ text: `FETCH FORWARD ${cap + 1} FROM run_sql`, rowMode: 'array' });
      } else {
        const run: Extended<QueryArrayConfig> = { text: statement.text, rowMode: 'array', queryMode: 'extended' };
        countStatement();
        result = await client.query<unknown[]>(run);
      }
      const columns = wrapped?.columns ?? (result.fields ?? []).map((f) => f.name);
      return this.shape(columns, wrapped?.long, result.rows);
    } catch (error) {
      throw this.explain(error);
    } finally {
      countStatement();
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      // Nothing the statement did may stay on the pooled connection: session advisory locks, settings, LISTEN.
      if (!broken) {
        countStatement();
        await client.query('DISCARD ALL').catch(() => {
          broken = true;
        });
      }
      client.release(broken ? new Error('runSql connection unusable') : undefined);
    }
  }

  /** The query's columns without running it (LIMIT 0 plans, fetches nothing). */
  private async describe(client: PoolClient, text: string): Promise<{ columns: string[]; long: boolean[] } | undefined> {
    const plan: Extended<QueryConfig> = { text: `SELECT * FROM (${text}\n) AS q LIMIT 0`, queryMode: 'extended' };
    countStatement();
    const { fields } = await client.query(plan);
    if (fields.length === 0) return undefined;
    return { columns: fields.map((f) => f.name), long: fields.map((f) => !SHORT_TYPES.has(f.dataTypeID)) };
  }

  /**
   * Columns renamed by position (c1, c2, ...: duplicate or odd names cannot collide); each long
   * column becomes two: its value when short enough, its first `cellBytes` characters when not.
   */
  private wrap(text: string, long: boolean[]): string {
    const cap = this.config.cellBytes;
    const names = long.map((_, i) => `c${i + 1}`);
    const select = names.map((c, i) =>
      long[i]
        ? `CASE WHEN octet_length(q.${c}::text) <= ${cap} THEN q.${c} END, CASE WHEN octet_length(q.${c}::text) > ${cap} THEN left(q.${c}::text, ${cap}) END`
        : `q.${c}`,
    );
    // OFFSET 0 keeps PostgreSQL from pulling the subquery up: each value is computed once, not once per use.
    return `SELECT ${select.join(', ')} FROM (SELECT * FROM (${text}\n) AS q0 OFFSET 0) AS q(${names.join(', ')})`;
  }

  private shape(columns: string[], long: boolean[] | undefined, raw: unknown[][]): SqlResult {
    const { rowLimit, cellBytes, answerBytes } = this.config;
    const truncatedBy = new Set<SqlTruncation>();
    const truncatedCells: SqlResult['truncatedCells'] = [];
    const rows: Record<string, unknown>[] = [];
    let bytes = 0;
    for (const values of raw) {
      if (rows.length === rowLimit) {
        truncatedBy.add('ROWS');
        break;
      }
      const row: Record<string, unknown> = {};
      let k = 0;
      columns.forEach((column, c) => {
        let value = values[k++];
        let cut = false;
        if (long?.[c]) {
          const prefix = values[k++];
          if (prefix !== null) {
            value = prefix;
            cut = true;
          }
        } else if (long === undefined && typeof value === 'string' && Buffer.byteLength(value) > cellBytes) {
          cut = true; // SHOW / EXPLAIN output, not wrapped in SQL: short by nature, cut here
        }
        if (cut) {
          value = cutToBytes(String(value), cellBytes);
          truncatedCells.push({ row: rows.length, column });
          truncatedBy.add('CELL_BYTES');
        }
        row[column] = value;
      });
      const size = Buffer.byteLength(JSON.stringify(row));
      if (bytes + size > answerBytes) {
        truncatedBy.add('ANSWER_BYTES');
        break;
      }
      bytes += size;
      rows.push(row);
    }
    return { columns, rows, rowCount: rows.length, truncated: truncatedBy.size > 0, truncatedBy: [...truncatedBy], truncatedCells };
  }

  private explain(error: unknown): unknown {
    const pg = error as { code?: string; message?: string };
    if (typeof pg?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(pg.code)) return error;
    switch (pg.code) {
      case '57014':
        return new BadInputError('sql', `cancelled: it ran longer than the ${this.config.statementTimeoutMs} ms statement timeout`, {
          reason: 'statement_timeout',
        });
      case '53400':
        return new BadInputError('sql', `cut: ${pg.message} (the console role's temp_file_limit; RUN_SQL_TEMP_FILE_LIMIT_KB)`, {
          reason: 'temp_file_limit',
          sqlState: pg.code,
        });
      case '25006':
        return new BadInputError('sql', `runSql is read-only: ${pg.message}`, { reason: 'read_only', sqlState: pg.code });
      case '42501':
        return new BadInputError('sql', `the console role may not do this: ${pg.message}`, {
          reason: 'permission_denied',
          sqlState: pg.code,
        });
      case '42601':
        if (/multiple commands/i.test(pg.message ?? ''))
          return new BadInputError('sql', 'runSql takes exactly one statement', { reason: 'multiple_statements', sqlState: pg.code });
        break;
    }
    // The admin's own statement failed: PostgreSQL's message is what they need.
    return new BadInputError('sql', String(pg.message), { sqlState: pg.code });
  }

  async close(): Promise<void> {
    await this.pool?.end();
    this.pool = undefined;
  }
}

/** The longest prefix of `value` within `bytes` UTF-8 bytes, never splitting a character. */
function cutToBytes(value: string, bytes: number): string {
  const buffer = Buffer.from(value);
  if (buffer.length <= bytes) return value;
  let end = bytes;
  while (end > 0 && (buffer[end] & 0xc0) === 0x80) end--;
  return buffer.subarray(0, end).toString();
}
