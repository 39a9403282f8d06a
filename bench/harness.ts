/**
 * The benchmark harness as a library: drives one or two running GraphQL endpoints with autocannon,
 * shape by shape, and returns what it measured. It starts no server. `bench/run.ts` is the command
 * around it; the smoke test calls the command.
 *
 * Per shape and endpoint, in this order:
 *   1. a sample: `sample` requests one after another, each body parsed and checked (no `errors`,
 *      the shape's `check` paths present), the SQL statements they caused counted (see SqlCounter);
 *   2. a warm-up autocannon run, thrown away;
 *   3. the measured autocannon run: requests/s, latency percentiles from every response's time,
 *      non-2xx and socket errors, and every body searched for a GraphQL `errors` member.
 * With a peer, each shape is measured on ours and then on the peer before the next shape, with the
 * same settings, so both see the same machine load and the ratio ours/peer is printed.
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import autocannon from 'autocannon';
import { Client } from 'pg';

export const SHAPES = ['list', 'nested', 'byId', 'series', 'create'] as const;
export type Shape = (typeof SHAPES)[number];

export interface ShapeQuery {
  query: string;
  /** One variables object, or several used in turn. Strings may hold `{n}`: a number unique per request. */
  variables?: Record<string, unknown> | Record<string, unknown>[];
  /** Paths into `data` (dots, numeric indexes) that must be present and not null in every sampled answer. */
  check?: string[];
}

export interface QueryFile {
  name: string;
  description?: string;
  shapes: Partial<Record<Shape, ShapeQuery>>;
}

export interface Endpoint {
  label: 'ours' | 'peer';
  url: string;
  queries: QueryFile;
  queriesPath: string;
  headers: Record<string, string>;
  /** The server's process id on this machine: its CPU time per request is measured (Linux /proc). */
  pid?: number;
}

export interface BenchOptions {
  ours: Endpoint;
  peer?: Endpoint;
  shapes: Shape[];
  durationSec: number;
  warmupSec: number;
  connections: number;
  /** Requests sent one by one before the load, checked and counted. */
  sample: number;
  /** PostgreSQL both endpoints use, for counting statements on the database side. */
  dbUrl?: string;
  /** Progress lines (the table is printed by the caller). */
  log?: (line: string) => void;
}

export interface SqlCount {
  /** Statements per request, on the database side when possible. */
  perRequest: number | null;
  source: 'pg_stat_statements' | 'x-sql-statements' | 'none';
  /** The server's own X-SQL-Statements header, averaged over the sample (null when it sends none). */
  header: number | null;
  /**
   * Committed + rolled-back transactions per request during the measured run, from pg_stat_database
   * (null without --db-url). Approximate: backends flush these counters about once a second.
   */
  transactionsPerRequest: number | null;
}

export interface TargetResult {
  url: string;
  requests: number;
  rps: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number; mean: number };
  non2xx: number;
  socketErrors: number;
  timeouts: number;
  /** Responses of the measured run whose body carried a GraphQL `errors` member. */
  graphqlErrors: number;
  sample: { requests: number; graphqlErrors: number; checkFailures: number; firstProblem?: string };
  sql: SqlCount;
  /**
   * CPU time per request during the measured run, in ms: the server process (with its pid) and the
   * PostgreSQL backends of the database (with --db-url; only one endpoint is loaded at a time).
   */
  cpu?: { nodeMsPerRequest: number | null; pgMsPerRequest: number | null };
}

export interface ShapeResult {
  ours?: TargetResult;
  peer?: TargetResult;
  /**
   * ours / peer: requests per second (higher is better for us) and p95 latency (lower is better);
   * absent when either endpoint had errors.
   */
  ratio?: { rps: number; p95: number };
}

export interface BenchResult {
  startedAt: string;
  finishedAt: string;
  settings: { durationSec: number; warmupSec: number; connections: number; sample: number; shapes: Shape[] };
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  targets: { ours: { url: string; queries: string; name: string }; peer?: { url: string; queries: string; name: string } };
  sqlCounter: { method: SqlCount['source'] | 'mixed'; note: string };
  shapes: Partial<Record<Shape, ShapeResult>>;
}

export class BenchError extends Error {}

/** Every way a request of one endpoint went wrong: HTTP status, socket, GraphQL errors, failed checks. */
export function errorCount(t: TargetResult): number {
  return t.non2xx + t.socketErrors + t.graphqlErrors + t.sample.graphqlErrors + t.sample.checkFailures;
}

export function loadQueryFile(path: string): QueryFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new BenchError(`cannot read query file ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const file = parsed as QueryFile;
  if (!file || typeof file !== 'object' || typeof file.shapes !== 'object' || file.shapes === null) {
    throw new BenchError(`query file ${path}: expected { "name": ..., "shapes": { "list": { "query": ... }, ... } }`);
  }
  for (const [shape, def] of Object.entries(file.shapes)) {
    if (!(SHAPES as readonly string[]).includes(shape))
      throw new BenchError(`query file ${path}: unknown shape "${shape}" (known: ${SHAPES.join(', ')})`);
    if (!def || typeof def.query !== 'string') throw new BenchError(`query file ${path}: shape "${shape}" needs a "query" string`);
  }
  return file;
}

/** Request bodies for one shape, each a function of a counter so `{n}` differs per request. */
function bodyMaker(def: ShapeQuery, runId: string): (i: number) => string {
  const sets = def.variables === undefined ? [undefined] : Array.isArray(def.variables) ? def.variables : [def.variables];
  const parts = sets.map((variables) => JSON.stringify({ query: def.query, variables }).split('{n}'));
  return (i) => {
    const p = parts[i % parts.length];
    return p.length === 1 ? p[0] : p.join(`${runId}-${i}`);
  };
}

const ERRORS_MEMBER = /"errors"\s*:\s*\[/;

function valueAt(data: unknown, path: string): unknown {
  let value = data;
  for (const key of path.split('.')) {
    if (value === null || value === undefined) return undefined;
    value = (value as Record<string | number, unknown>)[/^\d+$/.test(key) ? Number(key) : key];
  }
  return value;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Counts on the database side. Statements from pg_stat_statements (exact and synchronous) when the
 * extension is loaded, which needs shared_preload_libraries; transactions from pg_stat_database,
 * whose counters each backend flushes at most once a second (and up to 10 s late once it is idle),
 * so they are read only across a loaded run, where the lag at the start and at the end cancel out.
 */
class SqlCounter {
  private constructor(
    private readonly client: Client | undefined,
    readonly statements: boolean,
    readonly note: string,
  ) {}

  static async open(dbUrl: string | undefined): Promise<SqlCounter> {
    if (!dbUrl)
      return new SqlCounter(undefined, false, "no --db-url: statements from the server's X-SQL-Statements header where it sends one");
    const client = new Client({ connectionString: dbUrl, application_name: 'taskmaster-bench' });
    await client.connect();
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
      await client.query('SELECT 1 FROM pg_stat_statements LIMIT 1');
      return new SqlCounter(client, true, 'pg_stat_statements (all statements of the database, BEGIN/COMMIT included)');
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return new SqlCounter(
        client,
        false,
        `pg_stat_statements unavailable (${reason}); statements from the X-SQL-Statements header, transactions from pg_stat_database`,
      );
    }
  }

  /** Statement calls and transactions of this database so far. */
  async snapshot(): Promise<{ calls: number; xacts: number }> {
    if (!this.client) return { calls: 0, xacts: 0 };
    await this.client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await this.client.query<{ calls: number; xacts: number }>(
      `SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database())::float8 AS xacts,
              ${this.statements ? '(SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))::float8' : '0::float8'} AS calls`,
    );
    return { calls: rows[0].calls, xacts: rows[0].xacts };
  }

  /** The counter's own statements between two snapshots, to subtract: the first one's reading and the second one's clear. */
  get ownPerSnapshot(): { calls: number } {
    return { calls: 2 };
  }

  /**
   * Waits until no other session of the database is running a statement (two looks 100 ms apart),
   * for at most 30 s; without a database connection, a fixed second.
   */
  async settle(): Promise<void> {
    if (!this.client) return sleep(1_000);
    const deadline = Date.now() + 30_000;
    let quietLooks = 0;
    while (quietLooks < 2 && Date.now() < deadline) {
      const { rows } = await this.client.query<{ busy: number }>(
        `SELECT count(*)::int AS busy FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND state NOT IN ('idle')`,
      );
      quietLooks = rows[0].busy === 0 ? quietLooks + 1 : 0;
      await sleep(100);
    }
  }

  get enabled(): boolean {
    return this.client !== undefined;
  }

  /** Client backends of the database (this counter's own excepted; autovacuum workers are not a server's work). */
  async backendPids(): Promise<number[] | undefined> {
    if (!this.client) return undefined;
    const { rows } = await this.client.query(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    );
    return rows.map((r: { pid: number }) => r.pid);
  }

  async close(): Promise<void> {
    await this.client?.end();
  }
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** User + system CPU time of a process so far, in ms (undefined when it cannot be read). */
function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** CPU of the database's backends (the harness's own excepted), by pid. */
async function backendCpu(counter: SqlCounter): Promise<Map<number, number> | undefined> {
  const pids = await counter.backendPids();
  if (!pids) return undefined;
  const out = new Map<number, number>();
  for (const pid of pids) {
    const ms = cpuMs(pid);
    if (ms !== undefined) out.set(pid, ms);
  }
  return out.size > 0 ? out : undefined;
}

function backendCpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}

/**
 * Waits until the servers have worked off what the previous run left them: a server keeps answering
 * requests whose client has gone, and may do so mostly in its own process while the database looks
 * idle. A trivial query to each endpoint queues behind that backlog; then the database must be quiet.
 */
async function settle(endpoints: Endpoint[], counter: SqlCounter): Promise<void> {
  for (const endpoint of endpoints) {
    try {
      await fetch(endpoint.url, {
        method: 'POST',
        headers: endpoint.headers,
        body: '{"query":"{ __typename }"}',
        signal: AbortSignal.timeout(60_000),
      });
    } catch {
      // An endpoint that does not answer shows up in its own figures.
    }
  }
  await counter.settle();
}

async function sampleTarget(endpoint: Endpoint, def: ShapeQuery, body: (i: number) => string, count: number, counter: SqlCounter) {
  let graphqlErrors = 0;
  let checkFailures = 0;
  let firstProblem: string | undefined;
  const headerCounts: number[] = [];
  const before = await counter.snapshot();
  for (let i = 0; i < count; i++) {
    const res = await fetch(endpoint.url, { method: 'POST', headers: endpoint.headers, body: body(i) });
    const text = await res.text();
    const header = res.headers.get('x-sql-statements');
    if (header !== null && /^\d+$/.test(header)) headerCounts.push(Number(header));
    let parsed: { data?: unknown; errors?: unknown } | undefined;
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      parsed = undefined;
    }
    if (!res.ok || !parsed || parsed.errors) {
      graphqlErrors += 1;
      firstProblem ??= `HTTP ${res.status}: ${text.slice(0, 300)}`;
      continue;
    }
    for (const path of def.check ?? []) {
      const value = valueAt(parsed.data, path);
      if (value === undefined || value === null) {
        checkFailures += 1;
        firstProblem ??= `data.${path} is ${value === null ? 'null' : 'missing'} in ${text.slice(0, 300)}`;
        break;
      }
    }
  }
  let perRequest: number | null = null;
  if (counter.statements && count > 0) {
    const after = await counter.snapshot();
    perRequest = round((after.calls - before.calls - counter.ownPerSnapshot.calls) / count);
  }
  const header = headerCounts.length > 0 ? round(headerCounts.reduce((a, b) => a + b, 0) / headerCounts.length) : null;
  const sql: SqlCount =
    perRequest !== null
      ? { perRequest, source: 'pg_stat_statements', header, transactionsPerRequest: null }
      : { perRequest: header, source: header !== null ? 'x-sql-statements' : 'none', header, transactionsPerRequest: null };
  return { sample: { requests: count, graphqlErrors, checkFailures, ...(firstProblem ? { firstProblem } : {}) }, sql };
}

interface LoadRun {
  requests: number;
  durationSec: number;
  latencies: number[];
  non2xx: number;
  errors: number;
  timeouts: number;
  graphqlErrors: number;
}

async function load(endpoint: Endpoint, body: (i: number) => string, seconds: number, connections: number): Promise<LoadRun> {
  let i = 0;
  let graphqlErrors = 0;
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: endpoint.url,
        connections,
        duration: seconds,
        timeout: 30,
        method: 'POST',
        headers: endpoint.headers,
        requests: [
          {
            setupRequest: (request: autocannon.Request) => ({ ...request, body: body(i++) }),
            onResponse: (_status: number, responseBody: string) => {
              if (ERRORS_MEMBER.test(responseBody)) graphqlErrors += 1;
            },
          },
        ],
      },
      (error, done) => (error ? reject(error as Error) : resolve(done)), // autocannon passes an Error or null
    );
    instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
      latencies.push(responseTime);
    });
  });
  return {
    requests: result.requests.total,
    durationSec: result.duration,
    latencies,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    graphqlErrors,
  };
}

async function measure(endpoint: Endpoint, shape: Shape, options: BenchOptions, counter: SqlCounter, runId: string): Promise<TargetResult> {
  const def = endpoint.queries.shapes[shape] as ShapeQuery;
  const body = bodyMaker(def, `${runId}-${endpoint.label}`);
  const log = options.log ?? (() => undefined);
  // What the previous run left on either server must neither count here nor load this measurement.
  await settle([options.ours, ...(options.peer ? [options.peer] : [])], counter);
  log(`  ${shape} on ${endpoint.label}: sample of ${options.sample}`);
  const { sample, sql } = await sampleTarget(endpoint, def, body, options.sample, counter);
  if (sample.firstProblem) log(`    problem: ${sample.firstProblem}`);
  if (options.warmupSec > 0) {
    log(`  ${shape} on ${endpoint.label}: warm-up ${options.warmupSec} s`);
    await load(endpoint, (i) => body(1_000_000 + i), options.warmupSec, options.connections);
  }
  log(`  ${shape} on ${endpoint.label}: ${options.durationSec} s at ${options.connections} connections`);
  // Transactions under load: the counters lag by about a second in steady state, at both ends alike.
  const before = counter.enabled ? await counter.snapshot() : undefined;
  const pgBefore = await backendCpu(counter);
  const nodeBefore = endpoint.pid ? cpuMs(endpoint.pid) : undefined;
  const run = await load(endpoint, (i) => body(10_000_000 + i), options.durationSec, options.connections);
  const nodeAfter = endpoint.pid ? cpuMs(endpoint.pid) : undefined;
  const pgAfter = await backendCpu(counter);
  if (before && run.requests > 0) {
    const after = await counter.snapshot();
    sql.transactionsPerRequest = round((after.xacts - before.xacts) / run.requests, 1);
  }
  const perRequest = (ms: number | undefined) => (ms === undefined || run.requests === 0 ? null : round(ms / run.requests, 3));
  const cpu = {
    nodeMsPerRequest: perRequest(nodeBefore !== undefined && nodeAfter !== undefined ? nodeAfter - nodeBefore : undefined),
    pgMsPerRequest: perRequest(pgBefore && pgAfter ? backendCpuSpent(pgBefore, pgAfter) : undefined),
  };
  const sorted = run.latencies.sort((a, b) => a - b);
  const mean = sorted.length > 0 ? sorted.reduce((a, b) => a + b, 0) / sorted.length : 0;
  return {
    url: endpoint.url,
    requests: run.requests,
    rps: round(run.requests / (run.durationSec || options.durationSec), 1),
    latencyMs: {
      p50: round(percentile(sorted, 50)),
      p95: round(percentile(sorted, 95)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted[sorted.length - 1] ?? 0),
      mean: round(mean),
    },
    non2xx: run.non2xx,
    socketErrors: run.errors,
    timeouts: run.timeouts,
    graphqlErrors: run.graphqlErrors,
    sample,
    sql,
    cpu,
  };
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const endpoints = [options.ours, ...(options.peer ? [options.peer] : [])];
  for (const endpoint of endpoints) {
    const missing = options.shapes.filter((shape) => !endpoint.queries.shapes[shape]);
    if (missing.length > 0)
      throw new BenchError(`${endpoint.queriesPath} has no quer${missing.length === 1 ? 'y' : 'ies'} for ${missing.join(', ')}`);
  }
  const startedAt = new Date().toISOString();
  const runId = `bench-${Date.now().toString(36)}`;
  const counter = await SqlCounter.open(options.dbUrl);
  const shapes: BenchResult['shapes'] = {};
  try {
    for (const shape of options.shapes) {
      const result: ShapeResult = {};
      for (const endpoint of endpoints) result[endpoint.label] = await measure(endpoint, shape, options, counter, runId);
      // Comparing the speed of failures says nothing: a ratio only when both answered every request.
      if (
        result.ours &&
        result.peer &&
        errorCount(result.ours) === 0 &&
        errorCount(result.peer) === 0 &&
        result.peer.rps > 0 &&
        result.peer.latencyMs.p95 > 0
      ) {
        result.ratio = { rps: round(result.ours.rps / result.peer.rps), p95: round(result.ours.latencyMs.p95 / result.peer.latencyMs.p95) };
      }
      shapes[shape] = result;
    }
  } finally {
    await counter.close();
  }
  const sources = new Set(
    Object.values(shapes)
      .flatMap((s) => [s?.ours?.sql.source, s?.peer?.sql.source])
      .filter((x) => x !== undefined),
  );
  return {
    startedAt,
    finishedAt: new Date().toISOString(),
    settings: {
      durationSec: options.durationSec,
      warmupSec: options.warmupSec,
      connections: options.connections,
      sample: options.sample,
      shapes: options.shapes,
    },
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: round(totalmem() / 2 ** 30, 1),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    targets: {
      ours: { url: options.ours.url, queries: options.ours.queriesPath, name: options.ours.queries.name },
      ...(options.peer ? { peer: { url: options.peer.url, queries: options.peer.queriesPath, name: options.peer.queries.name } } : {}),
    },
    sqlCounter: { method: sources.size === 1 ? [...sources][0] : 'mixed', note: counter.note },
    shapes,
  };
}

/** The result as a plain-text table, one line per shape and endpoint, then the ratios. */
export function formatTable(result: BenchResult): string {
  const head = [
    'shape',
    'target',
    'req/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'requests',
    'non-2xx',
    'gql err',
    'sock err',
    'sql/req',
    'xact/req',
    'node ms/req',
    'pg ms/req',
  ];
  const rows: string[][] = [];
  const ratios: string[][] = [];
  for (const shape of result.settings.shapes) {
    const r = result.shapes[shape];
    if (!r) continue;
    for (const label of ['ours', 'peer'] as const) {
      const t = r[label];
      if (!t) continue;
      rows.push([
        shape,
        label,
        t.rps.toFixed(1),
        t.latencyMs.p50.toFixed(1),
        t.latencyMs.p95.toFixed(1),
        t.latencyMs.p99.toFixed(1),
        String(t.requests),
        String(t.non2xx),
        String(t.graphqlErrors + t.sample.graphqlErrors + t.sample.checkFailures),
        String(t.socketErrors),
        t.sql.perRequest === null ? '-' : `${t.sql.perRequest}${t.sql.source === 'x-sql-statements' ? ' (hdr)' : ''}`,
        t.sql.transactionsPerRequest === null ? '-' : String(t.sql.transactionsPerRequest),
        t.cpu?.nodeMsPerRequest == null ? '-' : t.cpu.nodeMsPerRequest.toFixed(2),
        t.cpu?.pgMsPerRequest == null ? '-' : t.cpu.pgMsPerRequest.toFixed(2),
      ]);
    }
    if (r.ratio) ratios.push([shape, r.ratio.rps.toFixed(2), r.ratio.p95.toFixed(2)]);
    else if (r.ours && r.peer) ratios.push([shape, 'errors', 'errors']);
  }
  const lines = [table(head, rows)];
  if (ratios.length > 0)
    lines.push('', 'ours / peer (req/s ≥ 1.00 and p95 ≤ 1.00 mean ours is ahead):', table(['shape', 'req/s ratio', 'p95 ratio'], ratios));
  lines.push('', `SQL counted by: ${result.sqlCounter.note}`);
  return lines.join('\n');
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
