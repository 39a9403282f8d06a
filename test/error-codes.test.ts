import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApolloServerErrorCode } from '@apollo/server/errors';
import { ERROR_CODES } from '../src/errors';

/*
 * Every code the API answers is in the ErrorCode list (src/errors.ts) and in docs/api.md's error
 * table, and the table lists exactly that list. The codes answered are found in src/ statically:
 * `code: 'X'` (an extensions object), `X_CODE = 'X'` (a named code), and a bare 'X' argument of
 * the calls that build an error (apiError, DomainError, httpErrorBody, a refusal), or a branch of a
 * conditional there; plus Apollo's own.
 */
const ROOT = join(__dirname, '..');
const BUILDERS = ['apiError', 'DomainError', 'httpErrorBody', 'refuse'];

function sources(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')
      ? [{ file: path.slice(ROOT.length + 1), text: readFileSync(path, 'utf8') }]
      : [];
  });
}

/** The arguments of a call starting at `open` (the index of its `(`), up to the matching `)`. */
function argumentsAt(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === "'" || c === '"' || c === '`') {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

/** Codes a source text answers, each with where. */
export function answeredCodes(file: string, text: string): { code: string; at: string }[] {
  const found: { code: string; at: string }[] = [];
  const add = (code: string, index: number) => found.push({ code, at: `${file}:${text.slice(0, index).split('\n').length}` });
  for (const m of text.matchAll(/\bcode:\s*'([A-Z][A-Z0-9_]+)'(?!\s*\|)/g)) add(m[1], m.index);
  for (const m of text.matchAll(/\b[A-Z_]*CODE\s*=\s*'([A-Z][A-Z0-9_]+)'/g)) add(m[1], m.index);
  for (const m of text.matchAll(new RegExp(`\\b(?:${BUILDERS.join('|')})\\s*\\(`, 'g'))) {
    const args = argumentsAt(text, m.index + m[0].length - 1);
    for (const a of args.matchAll(/(?:^|[,?:])\s*'([A-Z][A-Z0-9_]+)'\s*(?=[,:]|$)/g)) add(a[1], m.index);
  }
  return found;
}

/** The codes in the first column of the table under docs/api.md's "## Errors". */
function documentedCodes(): string[] {
  const api = readFileSync(join(ROOT, 'docs/api.md'), 'utf8');
  const section = api.slice(api.indexOf('\n## Errors\n'));
  const end = section.indexOf('\n## ', 1);
  return [...(end === -1 ? section : section.slice(0, end)).matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
}

describe('error codes', () => {
  const src = sources(join(ROOT, 'src'));
  const answered = src.flatMap((s) => answeredCodes(s.file, s.text));
  const listed = new Set<string>(ERROR_CODES);

  it('finds the codes src/ answers (a scan that found nothing would pass)', () => {
    const codes = new Set(answered.map((a) => a.code));
    for (const code of [
      'BAD_USER_INPUT',
      'COST_LIMIT_EXCEEDED',
      'SUBSCRIPTION_LIMIT_EXCEEDED',
      'PAYLOAD_TOO_LARGE',
      'UNAUTHENTICATED',
      'FORBIDDEN',
    ])
      expect(codes).toContain(code);
  });

  it('lists every code src/ answers in ErrorCode', () => {
    expect(answered.filter((a) => !listed.has(a.code)).map((a) => `${a.code} (${a.at})`)).toEqual([]);
  });

  it("lists Apollo's own codes in ErrorCode (persisted queries are on: PERSISTED_QUERY_NOT_SUPPORTED is never answered)", () => {
    expect(src.filter((s) => /persistedQueries:\s*false/.test(s.text)).map((s) => s.file)).toEqual([]);
    const apollo = Object.values(ApolloServerErrorCode).filter((c) => c !== ApolloServerErrorCode.PERSISTED_QUERY_NOT_SUPPORTED);
    expect(apollo.filter((c) => !listed.has(c))).toEqual([]);
  });

  it("has docs/api.md's error table list exactly ErrorCode, one row each", () => {
    const documented = documentedCodes();
    expect(documented.filter((c, i) => documented.indexOf(c) !== i)).toEqual([]);
    expect([...documented].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('fails on a code not listed', () => {
    const text = `throw apiError('NO_SUCH_CODE', 'x');\nconst e = { extensions: { code: 'ALSO_UNLISTED' } };\nhttpErrorBody(\`a (b)\`, 'THIRD_ONE');\nrefuse(m, e.code === 'ECONNRESET' ? 'FOURTH' : 'BAD_REQUEST');`;
    expect(answeredCodes('x.ts', text).filter((a) => !listed.has(a.code))).toEqual([
      { code: 'ALSO_UNLISTED', at: 'x.ts:2' },
      { code: 'NO_SUCH_CODE', at: 'x.ts:1' },
      { code: 'THIRD_ONE', at: 'x.ts:3' },
      { code: 'FOURTH', at: 'x.ts:4' },
    ]);
  });
});
