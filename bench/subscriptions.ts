/**
 * Subscriptions benchmark (not a test): N graphql-ws subscribers of `taskChanged` on one gateway
 * instance, then spread over two, while tasks are created through instance A; reports deliveries per
 * second, delivery latency (mutation sent -> event received by the client) p50/p95, and the
 * gateway's RSS per idle subscription. Starts its own two gateways (`node src/main.ts`, production
 * mode) on the database given; writes JSON to bench/results/ (git-ignored).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_subs \
 *     node -r @swc-node/register bench/subscriptions.ts [--sizes 100,1000,5000] [--events 20] [--rate 10]
 *
 * The database is created if missing and migrated; the bench only adds tasks titled "bench-sub-…".
 * Clients run in this process (one WebSocket per subscriber, as dashboards do), on the same machine:
 * their own CPU time is part of the latency measured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient, type Client } from 'graphql-ws';
import { Client as PgClient } from 'pg';
import WebSocket from 'ws';

const ROOT = resolve(__dirname, '..');
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,5000' },
    events: { type: 'string', default: '20' },
    rate: { type: 'string', default: '10' },
    out: { type: 'string' },
  },
});
const SIZES = args.sizes.split(',').map(Number);
const EVENTS = Number(args.events);
const RATE = Number(args.rate);
const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) throw new Error('set DATABASE_URL (a database the bench may create and add tasks to)');

const QUERY = `subscription { taskChanged(filter: { search: "bench-sub-" }) { cursor operation taskId task { id title status } } }`;

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

async function ensureDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = target.pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new PgClient({ connectionString: admin.toString() });
  await client.connect();
  const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (rows.length === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  await client.end();
}

function run(script: string, scriptArgs: string[], env: Record<string, string>): Promise<string> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, ['-r', '@swc-node/register', script, ...scriptArgs], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.once('exit', (code) => (code === 0 ? ok(out.trim()) : fail(new Error(`${script} exited ${code}: ${err}`))));
  });
}

interface Instance {
  name: string;
  base: string;
  child: ChildProcess;
}

async function startGateway(name: string, env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  // BENCH_GATEWAY_NODE_ARGS: extra node flags for the gateways (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof).
  const extra = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, ['--max-semi-space-size=32', ...extra, '-r', '@swc-node/register', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (
      await fetch(`${base}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 600 || child.exitCode !== null) throw new Error(`gateway ${name} did not start`);
    await sleep(100);
  }
  return { name, base, child };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

async function activeSubscriptions(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^graphql_subscriptions_active (\d+)/m.exec(text)?.[1] ?? 0);
}

async function waitActive(instances: Instance[], counts: number[], timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const now = await Promise.all(instances.map((i) => activeSubscriptions(i.base)));
    if (now.every((n, k) => n === counts[k])) return;
    if (Date.now() > until) throw new Error(`subscriptions active ${now.join('/')}, wanted ${counts.join('/')}`);
    await sleep(200);
  }
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

interface ScenarioResult {
  subscribers: number;
  instances: number;
  events: number;
  deliveries: number;
  expected: number;
  seconds: number;
  deliveriesPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  idleRssKbPerSubscription?: number;
}

async function scenario(instances: Instance[], token: string, n: number, tag: string): Promise<ScenarioResult> {
  const sent = new Map<string, number>();
  const latencies: number[] = [];
  let deliveries = 0;
  const clients: Client[] = [];
  const counts = instances.map(() => 0);
  // Idle RSS per subscription: the marginal cost of the second half of the subscribers (the first
  // half pays for warm-up: code compiled, pools and heap grown).
  const connectRange = async (from: number, to: number) => {
    for (let k = from; k < to; k++) {
      const target = k % instances.length;
      counts[target] += 1;
      const client = createClient({
        url: `${instances[target].base.replace(/^http/, 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: { Authorization: `Bearer ${token}` },
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => undefined,
      });
      client.subscribe(
        { query: QUERY },
        {
          next: (value: { data?: { taskChanged?: { task?: { title?: string } } } | null }) => {
            const at = sent.get(value.data?.taskChanged?.task?.title ?? '');
            if (at !== undefined) {
              latencies.push(Date.now() - at);
              deliveries += 1;
            }
          },
          error: (error) => console.error('subscription error', error),
          complete: () => undefined,
        },
      );
      clients.push(client);
      if (k % 200 === 199) await sleep(50);
    }
    await waitActive(instances, counts);
    await sleep(2_000);
  };
  await connectRange(0, Math.floor(n / 2));
  const rssHalf = instances.map((i) => rssKb(i.child.pid!));
  await connectRange(Math.floor(n / 2), n);
  const rssAfter = instances.map((i) => rssKb(i.child.pid!));
  const idle = instances.length === 1 ? Math.round(((rssAfter[0] - rssHalf[0]) / (n - Math.floor(n / 2))) * 10) / 10 : undefined;

  const started = Date.now();
  for (let e = 0; e < EVENTS; e++) {
    const title = `bench-sub-${tag}-${e}`;
    sent.set(title, Date.now());
    const res = await fetch(`${instances[0].base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: 'mutation($t: String!) { createTask(input: { title: $t }) { id } }', variables: { t: title } }),
    });
    if (!res.ok) throw new Error(`createTask: HTTP ${res.status} ${await res.text()}`);
    await sleep(1000 / RATE);
  }
  const expected = n * EVENTS;
  const until = Date.now() + 120_000;
  while (deliveries < expected && Date.now() < until) await sleep(50);
  const seconds = (Date.now() - started) / 1000;
  await Promise.all(clients.map(async (c) => c.dispose()));
  await waitActive(
    instances,
    instances.map(() => 0),
  );
  return {
    subscribers: n,
    instances: instances.length,
    events: EVENTS,
    deliveries,
    expected,
    seconds: Math.round(seconds * 10) / 10,
    deliveriesPerSecond: Math.round(deliveries / seconds),
    p50Ms: percentile(latencies, 0.5),
    p95Ms: percentile(latencies, 0.95),
    maxMs: Math.max(...latencies),
    idleRssKbPerSubscription: idle,
  };
}

async function main(): Promise<void> {
  await ensureDatabase(DATABASE_URL!);
  const env = {
    DATABASE_URL: DATABASE_URL!,
    NODE_ENV: 'production',
    SECRETS_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '1000000000',
    HEALTH_MONITOR_ENABLED: 'false',
    SUBSCRIPTION_MAX_SOCKETS_PER_TOKEN: '100000',
    DB_RUN_MIGRATIONS: 'true',
  };
  const token = await run('scripts/token-create.ts', ['--role', 'operator', '--name', `bench-subs-${Date.now()}`], {
    ...env,
    NODE_ENV: 'development',
  });
  const a = await startGateway('A', env);
  const b = await startGateway('B', env);
  const results: ScenarioResult[] = [];
  try {
    for (const n of SIZES) {
      for (const instances of [[a], [a, b]]) {
        const r = await scenario(instances, token, n, `${n}-${instances.length}-${Date.now()}`);
        results.push(r);
        console.log(
          `${String(n).padStart(5)} subscribers on ${instances.length} instance(s): ${r.deliveries}/${r.expected} deliveries in ${r.seconds} s ` +
            `(${r.deliveriesPerSecond}/s), latency p50 ${r.p50Ms} ms p95 ${r.p95Ms} ms max ${r.maxMs} ms` +
            (r.idleRssKbPerSubscription !== undefined ? `, idle RSS ${r.idleRssKbPerSubscription} KB/subscription` : ''),
        );
      }
    }
  } finally {
    a.child.kill('SIGTERM');
    b.child.kill('SIGTERM');
  }
  const out = args.out ?? join(ROOT, 'bench', 'results', `subscriptions-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ when: new Date().toISOString(), events: EVENTS, rate: RATE, results }, null, 2)}\n`);
  console.log(`written: ${out}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
