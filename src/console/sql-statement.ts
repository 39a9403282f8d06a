import { BadInputError } from '../errors';

/**
 * runSql's own checks on a statement, applied before it is sent. They are the second line: the
 * console role's privileges (db/database-roles.ts) are the first, and refuse all of this by themselves. A
 * small lexer skips comments, string literals, dollar quotes and quoted identifiers, so a word in a
 * string is not mistaken for a call and a call hidden in a quoted identifier is still seen.
 */
const QUERY_KEYWORDS = new Set(['select', 'with', 'values', 'table', 'show', 'explain']);
/** Statements that can be wrapped as a subquery (SHOW and EXPLAIN cannot). */
export const WRAPPABLE_KEYWORDS = new Set(['select', 'with', 'values', 'table']);

const DENIED: [RegExp, string][] = [
  [/^copy$/, 'COPY is refused'],
  [/^set_config$/, 'set_config is refused (it could change the role)'],
  [/^(pg_read_file|pg_read_binary_file|pg_stat_file|pg_ls_\w*|pg_file_\w*)$/, "functions that read the server's files are refused"],
  [/^lo_\w+$/, 'large-object functions (lo_import, lo_export, ...) are refused'],
  [/^dblink\w*$/, 'dblink is refused'],
  [/^((query|cursor|table|schema|database)_to_xml\w*|ts_stat|ts_rewrite)$/, 'functions that run SQL given as a string are refused'],
  [/^pg_(try_)?advisory\w*$/, "advisory locks are refused (they outlive the statement and can stall the gateway's writers)"],
  [/^pg_(terminate|cancel|signal)_backend$/, 'signalling other sessions is refused'],
];

export interface ScannedStatement {
  /** The statement without a trailing semicolon. */
  text: string;
  /** The first keyword, lowercased. */
  keyword: string;
}

/** The statement an admin may run, or a BAD_USER_INPUT on `sql` saying why not. */
export function checkStatement(sql: string): ScannedStatement {
  const words: string[] = [];
  let depth = 0;
  let end = sql.length;
  let i = 0;
  const n = sql.length;
  const refuse = (why: string, reason: string) => new BadInputError('sql', why, { reason });
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      let nest = 1;
      i += 2;
      while (i < n && nest > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          nest++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          nest--;
          i += 2;
        } else i++;
      }
    } else if (c === "'") {
      const escapes = /[eE]/.test(sql[i - 1] ?? '') && !/[\w$]/.test(sql[i - 2] ?? '');
      i++;
      while (i < n) {
        if (escapes && sql[i] === '\\') i += 2;
        else if (sql[i] === "'" && sql[i + 1] === "'") i += 2;
        else if (sql[i] === "'") break;
        else i++;
      }
      i++;
    } else if (c === '"') {
      let name = '';
      i++;
      while (i < n) {
        if (sql[i] === '"' && sql[i + 1] === '"') {
          name += '"';
          i += 2;
        } else if (sql[i] === '"') break;
        else name += sql[i++];
      }
      i++;
      words.push(name);
    } else if (c === '$' && /[A-Za-z_$]/.test(next ?? '')) {
      const tag = /^\$([A-Za-z_]\w*)?\$/.exec(sql.slice(i))?.[0];
      if (!tag) {
        i++;
        continue;
      }
      const close = sql.indexOf(tag, i + tag.length);
      i = close < 0 ? n : close + tag.length;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const start = i;
      while (i < n && /[\w$\u0080-\uffff]/.test(sql[i])) i++;
      const word = sql.slice(start, i);
      if (/^u$/i.test(word) && sql[i] === '&')
        throw refuse('U& escapes are not accepted by runSql; write the name or string plainly', 'unicode_escape');
      words.push(word.toLowerCase());
    } else if (c === ';') {
      if (
        sql
          .slice(i + 1)
          .replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, '')
          .trim() !== ''
      ) {
        throw refuse('runSql takes exactly one statement', 'multiple_statements');
      }
      end = i;
      break;
    } else {
      if (c === '(') depth++;
      if (c === ')' && --depth < 0) throw refuse('unbalanced parentheses', 'syntax');
      i++;
    }
  }
  if (depth !== 0) throw refuse('unbalanced parentheses', 'syntax');
  const keyword = words[0];
  if (keyword === undefined) throw refuse('is empty', 'empty');
  if (!QUERY_KEYWORDS.has(keyword)) {
    throw refuse(
      `runSql runs queries only (SELECT, WITH, VALUES, TABLE, SHOW, EXPLAIN); ${keyword.toUpperCase().slice(0, 20)} is refused`,
      'not_a_query',
    );
  }
  for (const word of words) {
    for (const [pattern, why] of DENIED) if (pattern.test(word)) throw refuse(why, 'denied');
  }
  return { text: sql.slice(0, end).trim(), keyword };
}
