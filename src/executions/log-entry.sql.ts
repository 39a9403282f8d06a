import type { Params } from '../db/sql';
import { LogLevel } from './log-entry.entity';

/*
 * An appended entry (any JSON value) as columns of execution_log_entries and back, exactly:
 *   a string          -> message = it, data NULL
 *   an object         -> message = its "message" if a string, level = its "level" if a LogLevel
 *                        value, data = the rest of it
 *   anything else     -> data = it
 * The migration that moved the arrays (1767100000000) holds its own copy of these rules.
 */

const LEVELS = `(${Object.values(LogLevel)
  .map((l) => `'${l}'`)
  .join(', ')})`;
const hasMessage = (v: string) => `jsonb_typeof(${v} -> 'message') = 'string'`;
const hasLevel = (v: string) => `(jsonb_typeof(${v} -> 'level') = 'string' AND ${v} ->> 'level' IN ${LEVELS})`;

/** The `level, message, data` values of the entry `v` (a jsonb expression). */
export function entryColumnsSql(v: string): string {
  return [
    `CASE WHEN ${hasLevel(v)} THEN ${v} ->> 'level' END`,
    `CASE WHEN jsonb_typeof(${v}) = 'string' THEN ${v} #>> '{}' WHEN ${hasMessage(v)} THEN ${v} ->> 'message' END`,
    `CASE jsonb_typeof(${v}) WHEN 'string' THEN NULL
       WHEN 'object' THEN ${v} - ARRAY[CASE WHEN ${hasMessage(v)} THEN 'message' END, CASE WHEN ${hasLevel(v)} THEN 'level' END]::text[]
       ELSE ${v} END`,
  ].join(', ');
}

/** The entry as it was appended, from the row `l` of execution_log_entries (a jsonb value). */
export function entrySql(l: string): string {
  return `CASE WHEN ${l}.data IS NULL AND ${l}.level IS NULL THEN to_jsonb(${l}.message)
     WHEN ${l}.message IS NULL AND ${l}.level IS NULL THEN ${l}.data
     ELSE coalesce(${l}.data, '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('message', ${l}.message, 'level', ${l}.level)) END`;
}

/** Entries `TaskExecution.logs` (deprecated) answers: the last ones, oldest first. */
export const LOGS_FIELD_LIMIT = 1000;

/** The deprecated `logs` field of the execution row `r` (its properties as columns): a jsonb array. */
export function lastEntriesSql(r: string): string {
  return `SELECT coalesce(jsonb_agg(x.entry ORDER BY x.seq), '[]'::jsonb) FROM (
    SELECT l.seq, ${entrySql('l')} AS entry FROM execution_log_entries l
    WHERE l.execution_id = ${r}."id" ORDER BY l.seq DESC LIMIT ${LOGS_FIELD_LIMIT}) x`;
}

/** Severities at or above `level`. */
export function levelsFrom(level: LogLevel): LogLevel[] {
  const all = Object.values(LogLevel);
  return all.slice(all.indexOf(level));
}

export interface LogEntryArgs {
  level?: LogLevel | null;
  since?: Date | null;
}

/** The conditions of logEntries' level and since arguments, over the alias `l`. */
export function logEntryFilterSql(args: LogEntryArgs, p: Params): string[] {
  const where: string[] = [];
  if (args.level != null) where.push(`l.level = ANY(${p.add(levelsFrom(args.level))}::text[])`);
  if (args.since != null) where.push(`l.at >= ${p.add(args.since)}::timestamptz`);
  return where;
}
