import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { configurationDoc, envExample } from '../src/config/docs';
import { startTestGateway, type TestGateway } from './support/gateway';

/**
 * The README and docs/ stay true: the configuration reference is what `npm run docs:config` makes
 * from the config module's definitions, every table renders, every relative link lands, and every
 * command the README shows runs (npm scripts exist; the curl examples answer without errors from a
 * real gateway).
 */
const ROOT = join(__dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Lines outside fenced code blocks, with their line numbers. */
function prose(text: string): { line: string; n: number }[] {
  let fenced = false;
  return text.split('\n').flatMap((line, i) => {
    if (line.startsWith('```')) {
      fenced = !fenced;
      return [];
    }
    return fenced ? [] : [{ line, n: i + 1 }];
  });
}

/** GitHub's heading anchor. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

/** Cells of a table row: split on pipes that are not escaped (GitHub splits inside code spans too). */
const cells = (row: string) =>
  row
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/);

describe.each([
  ['docs/configuration.md', configurationDoc],
  ['.env.example', envExample],
])('%s', (file, make) => {
  it('is what `npm run docs:config` makes from src/config/variables.ts', () => {
    if (read(file) !== make()) throw new Error(`${file} is stale: run \`npm run docs:config\` and commit the result`);
  });
});

describe.each(DOCS)('%s', (file) => {
  const text = read(file);

  it('renders every table: a header row, a separator, rows of the same width', () => {
    const lines = prose(text);
    const problems: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i].line.startsWith('|') || lines[i - 1]?.line.startsWith('|')) continue;
      const table = [];
      while (i < lines.length && lines[i].line.startsWith('|')) table.push(lines[i++]);
      const width = cells(table[0].line).length;
      if (table.length < 2 || !/^\|( *:?-{3,}:? *\|)+$/.test(table[1].line.trim()))
        problems.push(`line ${table[0].n}: a table without a separator row under its header`);
      else if (cells(table[1].line).length !== width)
        problems.push(`line ${table[1].n}: the separator has ${cells(table[1].line).length} cells, the header ${width}`);
      for (const row of table.slice(2))
        if (cells(row.line).length !== width)
          problems.push(`line ${row.n}: ${cells(row.line).length} cells, the header has ${width} (escape a | in a value as \\|)`);
      for (const row of table) {
        const outsideCode = row.line
          .split('`')
          .filter((_, k) => k % 2 === 0)
          .join(' ');
        if (/<[a-z][\w-]*>/i.test(outsideCode))
          problems.push(`line ${row.n}: a <name> outside a code span is taken for HTML and not shown (write &lt; or use backticks)`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('names only npm scripts that package.json has, in its shell blocks', () => {
    const scripts: Record<string, string> = JSON.parse(read('package.json')).scripts;
    const named = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
      [...m[1].matchAll(/\bnpm (?:run (?:-s )?)?([\w:-]+)/g)].map((n) => n[1]),
    );
    expect(named.filter((name) => !['install', 'ci'].includes(name) && scripts[name] === undefined)).toEqual([]);
  });

  it('links only to files (and headings) that exist', () => {
    const broken: string[] = [];
    for (const { line, n } of prose(text)) {
      for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target)) continue; // http(s), mailto
        const [path, anchor] = target.split('#');
        const linked = path === '' ? join(ROOT, file) : resolve(dirname(join(ROOT, file)), path);
        if (!existsSync(linked)) {
          broken.push(`line ${n}: ${target} (no such file)`);
          continue;
        }
        if (anchor && linked.endsWith('.md')) {
          const headings = prose(readFileSync(linked, 'utf8')).flatMap(({ line: l }) =>
            /^#+ /.test(l) ? [slug(l.replace(/^#+ /, ''))] : [],
          );
          if (!headings.includes(anchor)) broken.push(`line ${n}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });
});

describe("the README's commands", () => {
  const scripts: Record<string, string> = JSON.parse(read('package.json')).scripts;
  /** Each command of the README's sh blocks, continuation lines joined, comments dropped. */
  const commands = [...read('README.md').matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1].replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.replace(/\s+#\s.*$/, '').trim())
    .filter(Boolean);

  it('are there: install, start, test, a token, a mutation and a query', () => {
    expect(commands).toEqual(expect.arrayContaining(['npm install && npm start', 'npm test']));
    expect(commands.filter((c) => c.startsWith('curl ')).length).toBeGreaterThanOrEqual(2);
  });

  it('name only npm scripts that package.json has', () => {
    const named = commands.flatMap((c) => [...c.matchAll(/\bnpm (?:run (?:-s )?)?([\w:-]+)/g)].map((m) => m[1]));
    expect(named.length).toBeGreaterThan(0);
    const builtins = new Set(['install', 'ci']);
    expect(named.filter((name) => !builtins.has(name) && scripts[name] === undefined)).toEqual([]);
  });

  describe('against a running gateway', () => {
    let t: TestGateway;
    beforeAll(async () => {
      t = await startTestGateway();
    });
    afterAll(() => t.close());

    it('each curl example answers with data and no errors', async () => {
      const run = promisify(execFile);
      const port = new URL(t.baseUrl).port;
      const curls = commands.filter((c) => c.startsWith('curl '));
      const before = (await t.db.query(`SELECT count(*)::int AS n FROM tasks`))[0].n;
      for (const command of curls) {
        // The README's token line, as npm run token:create would print it (test/seed.test.ts runs that script).
        const { stdout } = await run('bash', ['-c', command.replace(/localhost:4000/g, `127.0.0.1:${port}`)], {
          env: { ...process.env, TOKEN: t.adminToken },
        });
        const body = JSON.parse(stdout);
        expect([command.slice(0, 100), body.errors]).toEqual([command.slice(0, 100), undefined]);
        expect(body.data).toBeDefined();
      }
      expect((await t.db.query(`SELECT count(*)::int AS n FROM tasks`))[0].n).toBe(before + 1);
    });
  });
});
