/**
 * `npm run bench -- --url http://127.0.0.1:4000/graphql [options]`: measures a running gateway (and,
 * with --peer-url, a peer on the same database) shape by shape; prints a table and writes JSON.
 * It starts nothing: start the gateway (and the peer) first. See bench/README.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchError, formatTable, loadQueryFile, runBench, SHAPES, type Endpoint, type Shape } from './harness';

const USAGE = `usage: npm run bench -- --url URL [options]
  --url URL              the gateway's GraphQL endpoint (required), e.g. http://127.0.0.1:4000/graphql
  --queries FILE         its query file (default bench/queries/gateway.json)
  --token TOKEN          sent to the gateway as "Authorization: Bearer TOKEN"
  --peer-url URL         a peer's GraphQL endpoint on the same database, e.g. PostGraphile's
  --peer-queries FILE    the peer's query file (default bench/queries/postgraphile.json)
  --peer-token TOKEN     sent to the peer as "Authorization: Bearer TOKEN"
  --pid PID              the gateway's process id: its CPU time per request is reported (Linux)
  --peer-pid PID         the peer's process id (PostGraphile's node process, not its launcher)
  --shapes a,b,...       which shapes, in order (default ${SHAPES.join(',')})
  --duration S           measured seconds per shape and endpoint (default 10)
  --warmup S             warm-up seconds before each measurement (default 3; 0 for none)
  --connections N        concurrent connections (default 32)
  --sample N             requests sent one by one first, checked and counted (default 20)
  --db-url URL           the database both use, to count SQL there (pg_stat_statements if loaded,
                         else transactions from pg_stat_database)
  --out FILE             where to write the JSON result (default bench/results/<time>.json)`;

class UsageError extends Error {}

function number(raw: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${flag}: expected a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function endpointUrl(raw: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--${flag}: not a URL: "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`--${flag}: expected http:// or https://, got "${raw}"`);
  return url.toString();
}

function headers(token: string | undefined): Record<string, string> {
  return { 'content-type': 'application/json', accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      url: { type: 'string' },
      queries: { type: 'string', default: 'bench/queries/gateway.json' },
      token: { type: 'string' },
      'peer-url': { type: 'string' },
      'peer-queries': { type: 'string', default: 'bench/queries/postgraphile.json' },
      'peer-token': { type: 'string' },
      pid: { type: 'string' },
      'peer-pid': { type: 'string' },
      shapes: { type: 'string', default: SHAPES.join(',') },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      sample: { type: 'string' },
      'db-url': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new UsageError('');
  if (!values.url) throw new UsageError('--url is required');
  const shapes = values.shapes
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const shape of shapes) {
    if (!(SHAPES as readonly string[]).includes(shape))
      throw new UsageError(`--shapes: unknown shape "${shape}" (known: ${SHAPES.join(', ')})`);
  }
  if (shapes.length === 0) throw new UsageError('--shapes: name at least one shape');
  const ours: Endpoint = {
    label: 'ours',
    url: endpointUrl(values.url, 'url'),
    queries: loadQueryFile(values.queries),
    queriesPath: values.queries,
    headers: headers(values.token),
    pid: values.pid ? number(values.pid, 'pid', 0, 1, 2 ** 31) : undefined,
  };
  const peer: Endpoint | undefined = values['peer-url']
    ? {
        label: 'peer',
        url: endpointUrl(values['peer-url'], 'peer-url'),
        queries: loadQueryFile(values['peer-queries']),
        queriesPath: values['peer-queries'],
        headers: headers(values['peer-token']),
        pid: values['peer-pid'] ? number(values['peer-pid'], 'peer-pid', 0, 1, 2 ** 31) : undefined,
      }
    : undefined;
  const options = {
    ours,
    peer,
    shapes: shapes as Shape[],
    durationSec: number(values.duration, 'duration', 10, 0.5, 3_600),
    warmupSec: number(values.warmup, 'warmup', 3, 0, 3_600),
    connections: number(values.connections, 'connections', 32, 1, 10_000),
    sample: number(values.sample, 'sample', 20, 0, 100_000),
    dbUrl: values['db-url'],
    log: (line: string) => console.error(line),
  };
  console.error(
    `bench: ${shapes.join(', ')} on ${ours.url}${peer ? ` and ${peer.url}` : ''}: warm-up ${options.warmupSec} s, ` +
      `${options.durationSec} s at ${options.connections} connections each`,
  );
  const result = await runBench(options);
  const out = resolve(values.out ?? `bench/results/${result.startedAt.replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(formatTable(result));
  console.log(`\nresult written to ${out}`);
}

main().catch((error: Error & { code?: string }) => {
  if (error instanceof UsageError || error.code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(error.message ? `bench: ${error.message}\n\n${USAGE}` : USAGE);
    process.exit(error.message ? 2 : 0);
  }
  console.error('bench failed:', error instanceof BenchError || error instanceof Error ? error.message : error);
  process.exit(1);
});
