// Read replicas (issue 27): `list` and `byId` throughput through a gateway on the primary only vs a
// gateway on the primary + 1 streaming replica, and the cost of the read-after check per request.
// Self-contained: starts an embedded PostgreSQL with one replica (EMBEDDED_PG_REPLICAS=1, in a
// temporary folder), a gateway on both, a second gateway on the primary only, seeds 2,000 tasks.
//   node bench/replicas.cjs [clients=16] [seconds per cell=3] [rounds=3]
// Prints, per cell, the median over the rounds (cells interleaved round by round), and the ratios.
// Both servers and both gateways share this machine's cores: the replica adds a server process,
// not hardware, so the throughput ratio says what routing costs or saves here, not on two hosts.
const { spawn, execFileSync } = require('node:child_process');
const { chmodSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { Client } = require('pg');
const { fetch, setTimeout } = globalThis;

const CLIENTS = Number(process.argv[2] ?? 16);
const SECONDS = Number(process.argv[3] ?? 3);
const ROUNDS = Number(process.argv[4] ?? 3);
const ROOT = join(__dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'tm-bench-replicas-'));
chmodSync(dir, 0o755); // PostgreSQL runs as the postgres user when this runs as root
const PG_PORT = 56000 + Math.floor(Math.random() * 1000);
const PRIMARY_URL = `postgres://postgres:postgres@127.0.0.1:${PG_PORT}/taskmaster`;
const common = {
  ...process.env,
  NODE_ENV: 'development',
  LOG_LEVEL: 'warn',
  HOST: '127.0.0.1',
  RATE_LIMIT_PER_MINUTE: '1000000000',
  HEALTH_MONITOR_ENABLED: 'false',
  DB_POOL_MAX: '16',
  // What the read-after measurement isolates: no token pin, only the header.
  DB_REPLICA_PIN_MS: '0',
};
const children = [];

async function startGateway(port, env) {
  const child = spawn(process.execPath, ['--max-semi-space-size=32', '-r', '@swc-node/register', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...common, PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr.on('data', (chunk) => (err += chunk));
  let exited = false;
  child.once('exit', () => (exited = true));
  for (const until = Date.now() + 120_000; Date.now() < until && !exited;) {
    const up = await fetch(`http://127.0.0.1:${port}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return `http://127.0.0.1:${port}/graphql`;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the gateway on port ${port} did not become ready: ${err}`);
}

const BY_ID = 'query($id: UUID!) { task(id: $id) { id title status priority createdAt } }';
const LIST = '{ tasks(first: 20) { nodes { id title status priority createdAt } } }';
const CREATE = 'mutation($input: CreateTaskInput!) { createTask(input: $input) { id } }';

async function post(url, token, query, variables, headers = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return { body, readAfter: res.headers.get('x-read-after') };
}

/** Requests per second of `CLIENTS` loops calling `one()` for SECONDS. */
async function throughput(one) {
  let n = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < until) {
        await one();
        n += 1;
      }
    }),
  );
  return n / SECONDS;
}

/** Read latencies (ms) of create-then-read pairs; `withHeader`: the read sends the create's position. */
async function pairs(url, token, withHeader) {
  const reads = [];
  let missed = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() < until) {
        const created = await post(url, token, CREATE, { input: { title: 'pair' } });
        const id = created.body.data.createTask.id;
        const t0 = performance.now();
        const read = await post(url, token, BY_ID, { id }, withHeader ? { 'x-read-after': created.readAfter } : {});
        reads.push(performance.now() - t0);
        if (!read.body.data.task) missed += 1;
      }
    }),
  );
  return { p50: median(reads), n: reads.length, missed };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  const replicated = await startGateway(41000 + Math.floor(Math.random() * 1000), {
    EMBEDDED_PG_DATA_DIR: join(dir, 'pg'),
    EMBEDDED_PG_PORT: String(PG_PORT),
    EMBEDDED_PG_REPLICAS: '1',
  });
  const primaryOnly = await startGateway(42000 + Math.floor(Math.random() * 1000), { DATABASE_URL: PRIMARY_URL });
  const token = execFileSync(
    process.execPath,
    ['-r', '@swc-node/register', 'scripts/token-create.ts', '--role', 'admin', '--name', 'bench'],
    {
      cwd: ROOT,
      env: { ...common, DATABASE_URL: PRIMARY_URL },
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  )
    .toString()
    .trim();
  const db = new Client({ connectionString: PRIMARY_URL });
  await db.connect();
  await db.query(`INSERT INTO tasks (title, priority) SELECT 'bench ' || i, i % 10 FROM generate_series(1, 2000) i`);
  const ids = (await db.query('SELECT id FROM tasks ORDER BY random() LIMIT 500')).rows.map((r) => r.id);
  await new Promise((r) => setTimeout(r, 1_500)); // the replica replays the seed
  let k = 0;
  const byId = (url) => () => post(url, token, BY_ID, { id: ids[k++ % ids.length] });
  const list = (url) => () => post(url, token, LIST);
  const cells = {
    'list, primary only': list(primaryOnly),
    'list, primary + 1 replica': list(replicated),
    'byId, primary only': byId(primaryOnly),
    'byId, primary + 1 replica': byId(replicated),
  };
  for (const run of Object.values(cells)) await throughput(run); // warm-up: plans, connections, JIT
  const results = Object.fromEntries(Object.keys(cells).map((name) => [name, []]));
  const pairResults = { without: [], with: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, run] of Object.entries(cells)) results[name].push(await throughput(run));
    pairResults.without.push(await pairs(replicated, token, false));
    pairResults.with.push(await pairs(replicated, token, true));
  }
  console.log(`${CLIENTS} clients, ${SECONDS} s per cell, median of ${ROUNDS} rounds (node ${process.version})`);
  for (const [name, xs] of Object.entries(results))
    console.log(`${name.padEnd(28)} ${median(xs).toFixed(0)} req/s  (${xs.map((x) => x.toFixed(0)).join(', ')})`);
  for (const shape of ['list', 'byId']) {
    const ratio = median(results[`${shape}, primary + 1 replica`]) / median(results[`${shape}, primary only`]);
    console.log(`${shape}: primary + 1 replica / primary only = ${ratio.toFixed(2)}`);
  }
  const p = (side) => median(pairResults[side].map((r) => r.p50));
  const missed = (side) => pairResults[side].reduce((a, r) => a + r.missed, 0);
  const reads = (side) => pairResults[side].reduce((a, r) => a + r.n, 0);
  console.log(
    `create-then-read, read p50: without X-Read-After ${p('without').toFixed(2)} ms (${missed('without')} of ${reads('without')} reads missed their write), ` +
      `with ${p('with').toFixed(2)} ms (${missed('with')} of ${reads('with')} missed): the read-after check costs ${(p('with') - p('without')).toFixed(2)} ms per read`,
  );
  const metrics = await (await fetch(replicated.replace('/graphql', '/metrics'))).text();
  console.log(
    metrics
      .split('\n')
      .filter((l) => /^taskmaster_db_replica_(reads|primary_reads|fallbacks|wait_timeouts)_total/.test(l))
      .join('\n'),
  );
  await db.end();
})()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    for (const child of children.reverse()) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
