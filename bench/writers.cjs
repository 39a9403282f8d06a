// Concurrent writers (issue 26, item 5): N clients loop over a task's write path through the GraphQL
// endpoint -- createTask, updateTaskStatus(IN_PROGRESS), startExecution, appendExecutionLog (one
// entry), updateTaskStatus(COMPLETED) -- for a fixed time, at each client count, on one gateway and
// on two gateways over the same database (clients split between them). Every one of those writes
// adds change_log rows; one live reader polls the change log meanwhile, as a gateway with a
// subscription does. Prints writes/s, per-write latency p50/p95 and the reader's lag, and checks
// the change log got its rows (with the sequencer, that every committed row was numbered, gap-free).
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5441/bench_writers \
//     node bench/writers.cjs [--clients 1,8,32,128] [--seconds 10] [--instances 1,2] [--mode after|before|both] [--runs 1] [--via http|sql]
//
// It migrates the database, starts its own gateways (`node -r @swc-node/register src/main.ts`,
// production, LOG_LEVEL=warn, DB_POOL_MAX=$WRITERS_POOL_MAX or 32 each) and makes an operator token.
// --mode before runs `migration:revert` of the last migration first (ChangeLogWithoutLock: writers
// take the change-log advisory lock again), `after` runs the migrations up; `both` alternates
// after/before per run, so both see the same machine. The database's tasks are never emptied.
const { spawn, execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { createServer } = require('node:net');
const { resolve } = require('node:path');
const { parseArgs } = require('node:util');
const { performance } = require('node:perf_hooks');
const { setTimeout: sleep } = require('node:timers/promises');
const { Client } = require('pg');
const { fetch, URL } = globalThis;

const ROOT = resolve(__dirname, '..');
const { values: args } = parseArgs({
  options: {
    clients: { type: 'string', default: '1,8,32,128' },
    seconds: { type: 'string', default: '10' },
    instances: { type: 'string', default: '1,2' },
    mode: { type: 'string', default: 'after' },
    runs: { type: 'string', default: '1' },
    via: { type: 'string', default: 'http' },
  },
});
const DATABASE_URL = process.env.DATABASE_URL;
if (!DATABASE_URL) throw new Error('set DATABASE_URL (a database of the bench: it is migrated and gets tasks)');
const CLIENTS = args.clients.split(',').map(Number);
const SECONDS = Number(args.seconds);
const INSTANCES = args.instances.split(',').map(Number);
const POOL = process.env.WRITERS_POOL_MAX ?? '32';
const pct = (xs, p) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] : NaN);

function node(script, scriptArgs) {
  return execFileSync(process.execPath, ['-r', '@swc-node/register', script, ...scriptArgs], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}
const typeorm = (command) => node('./node_modules/typeorm/cli.js', [command, '-d', 'ormconfig.ts']);

async function ensureDatabase() {
  const admin = new URL(DATABASE_URL);
  const name = admin.pathname.slice(1);
  admin.pathname = '/postgres';
  const c = new Client({ connectionString: admin.toString() });
  await c.connect();
  if ((await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 0) await c.query(`CREATE DATABASE "${name}"`);
  await c.end();
}

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function startGateway(secretsKey) {
  const port = await freePort();
  const child = spawn(process.execPath, ['--max-semi-space-size=32', '-r', '@swc-node/register', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL,
      NODE_ENV: 'production',
      SECRETS_KEYS: `k1:${secretsKey}`,
      RATE_LIMIT_PER_MINUTE: '1000000000',
      LOG_LEVEL: 'warn',
      DB_POOL_MAX: POOL,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
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
    if (i > 600 || child.exitCode !== null) throw new Error('a gateway did not start');
    await sleep(100);
  }
  return { url: `${base}/graphql`, child };
}

const CREATE = 'mutation($i: CreateTaskInput!) { createTask(input: $i) { id } }';
const MOVE = 'mutation($i: UpdateTaskStatusInput!) { updateTaskStatus(input: $i) { id } }';
const START = 'mutation($i: StartExecutionInput!) { startExecution(input: $i) { id } }';
const APPEND = 'mutation($i: AppendExecutionLogInput!) { appendExecutionLog(input: $i) { id } }';

async function scenario(gateways, token, clients) {
  const latencies = [];
  let writes = 0;
  let errors = 0;
  let stop = false;
  const gql = async (url, query, i) => {
    const t0 = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables: { i } }),
    });
    const body = await res.json();
    latencies.push(performance.now() - t0);
    if (body.errors || !body.data) {
      if (errors++ === 0) console.error(JSON.stringify(body.errors ?? body));
      return null;
    }
    writes += 1;
    return Object.values(body.data)[0];
  };
  // --via sql: the same five writes as plain statements on a connection of the client's own (no
  // gateway): what the database alone sustains, the change-log triggers included.
  const sqlLoop = async (k) => {
    const c = new Client({ connectionString: DATABASE_URL });
    await c.connect();
    const timed = async (sql, params) => {
      const t0 = performance.now();
      const { rows } = await c.query(sql, params);
      latencies.push(performance.now() - t0);
      writes += 1;
      return rows[0];
    };
    for (let n = 0; !stop; n++) {
      const { id } = await timed(`INSERT INTO tasks (title, priority) VALUES ($1, $2) RETURNING id`, [`bench-writer-${k}-${n}`, n % 5]);
      await timed(`UPDATE tasks SET status = 'in_progress', version = version + 1 WHERE id = $1`, [id]);
      const run = await timed(
        `INSERT INTO task_executions (task_id, agent_type, status, started_at) VALUES ($1, 'bench', 'running', now()) RETURNING id`,
        [id],
      );
      await timed(`UPDATE task_executions SET logs = coalesce(logs, '[]'::jsonb) || $2::jsonb WHERE id = $1`, [
        run.id,
        JSON.stringify([{ level: 'info', message: `step ${n}` }]),
      ]);
      await timed(`UPDATE tasks SET status = 'completed', completed_at = now(), version = version + 1 WHERE id = $1`, [id]);
    }
    await c.end();
  };
  const loop = async (k) => {
    const url = gateways[k % gateways.length].url;
    for (let n = 0; !stop; n++) {
      const task = await gql(url, CREATE, { title: `bench-writer-${k}-${n}`, priority: n % 5 });
      if (!task) continue;
      await gql(url, MOVE, { id: task.id, status: 'IN_PROGRESS' });
      const run = await gql(url, START, { taskId: task.id, agentType: 'bench' });
      if (run) await gql(url, APPEND, { id: run.id, entries: [{ level: 'info', message: `step ${n}` }] });
      await gql(url, MOVE, { id: task.id, status: 'COMPLETED' });
    }
  };
  // One live reader, as a gateway with a subscription runs it: every 50 ms (SUBSCRIPTION_POLL_MS),
  // `seq > cursor` in pages of 1,000 (with the lock-free change log: through change_log_read, the
  // sequencer first). Its lag:
  // from a row's commit-time stamp to the read that returned it.
  const reader = new Client({ connectionString: DATABASE_URL });
  await reader.connect();
  const sequencer = (await reader.query(`SELECT 1 FROM pg_proc WHERE proname = 'change_log_read'`)).rowCount > 0;
  let cursor = Number((await reader.query(`SELECT coalesce(max(seq), 0)::text AS s FROM change_log`)).rows[0].s);
  const lags = [];
  const reading = (async () => {
    while (!stop) {
      for (;;) {
        const { rows } = await reader.query(
          `SELECT seq::text AS seq, extract(epoch FROM clock_timestamp() - occurred_at) * 1000 AS lag
             FROM ${sequencer ? 'change_log_read($1, 1000)' : 'change_log WHERE seq > $1'} ORDER BY seq LIMIT 1000`,
          [cursor],
        );
        for (const r of rows) lags.push(Number(r.lag));
        if (rows.length > 0) cursor = Number(rows[rows.length - 1].seq);
        if (rows.length < 1000) break;
      }
      await sleep(50);
    }
  })();
  const started = performance.now();
  const loops = Array.from({ length: clients }, (_, k) => (args.via === 'sql' ? sqlLoop(k) : loop(k)));
  await sleep(SECONDS * 1000);
  stop = true;
  await Promise.all(loops);
  const seconds = (performance.now() - started) / 1000;
  await reading;
  await reader.end();
  return {
    writesPerSecond: writes / seconds,
    p50: pct(latencies, 0.5),
    p95: pct(latencies, 0.95),
    errors,
    readerLagP50: pct(lags, 0.5),
    readerLagP95: pct(lags, 0.95),
  };
}

(async () => {
  await ensureDatabase();
  typeorm('migration:run');
  const token = node('scripts/token-create.ts', ['--role', 'operator', '--name', `bench-writers-${Date.now()}`])
    .split('\n')
    .pop();
  const db = new Client({ connectionString: DATABASE_URL });
  await db.connect();
  const modes = args.mode === 'both' ? ['after', 'before'] : [args.mode];
  const results = [];
  for (let run = 1; run <= Number(args.runs); run++) {
    for (const mode of run % 2 === 0 ? [...modes].reverse() : modes) {
      const applied = async () =>
        (await db.query(`SELECT 1 FROM typeorm_migrations WHERE name = 'ChangeLogWithoutLock1767300000000'`)).rowCount > 0;
      // The rows of the previous mode are read: purge them as the gateway would (so the switch is quick).
      if (await applied()) await db.query('SELECT change_log_sequence(2147483647)');
      await db.query(
        `WITH gone AS (DELETE FROM change_log WHERE seq IS NOT NULL RETURNING seq)
         UPDATE change_log_state SET purged_through = greatest(purged_through, (SELECT max(seq) FROM gone)) WHERE id = 1 AND EXISTS (SELECT 1 FROM gone)`,
      );
      if (mode === 'before' && (await applied())) typeorm('migration:revert');
      if (mode === 'after' && !(await applied())) typeorm('migration:run');
      // Switching rewrites change_log (up: every row's id; down: the primary key): let neither
      // mode's first scenarios pay for the other's dead rows.
      await db.query('VACUUM (ANALYZE) change_log, tasks, task_executions, audit_log');
      await db.query('CHECKPOINT');
      for (const instances of INSTANCES) {
        const key = randomBytes(32).toString('base64');
        const gateways = [];
        for (let i = 0; i < instances && args.via === 'http'; i++) gateways.push(await startGateway(key));
        for (const clients of CLIENTS) {
          await sleep(1000);
          const r = await scenario(gateways, token, clients);
          const row = { run, mode, instances, clients, ...r };
          results.push(row);
          console.log(
            `run ${run} ${mode.padEnd(6)} ${instances} instance(s) ${String(clients).padStart(3)} clients: ` +
              `${r.writesPerSecond.toFixed(0)} writes/s, p50 ${r.p50.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, errors ${r.errors}, ` +
              `reader lag p50 ${r.readerLagP50.toFixed(0)} ms, p95 ${r.readerLagP95.toFixed(0)} ms`,
          );
        }
        for (const g of gateways) {
          g.child.kill('SIGTERM');
          await new Promise((r) => (g.child.exitCode !== null ? r() : g.child.once('exit', r)));
        }
      }
    }
  }
  // The change log got its rows: with the sequencer, number what is left and check seqs are gap-free.
  if (!(await db.query(`SELECT 1 FROM typeorm_migrations WHERE name = 'ChangeLogWithoutLock1767300000000'`)).rowCount)
    typeorm('migration:run');
  await db.query('SELECT change_log_sequence(2147483647)');
  const [gaps] = (
    await db.query(
      `SELECT count(*)::int AS rows, (max(seq) - min(seq) + 1 - count(*))::int AS gaps, count(*) FILTER (WHERE seq IS NULL)::int AS unnumbered FROM change_log`,
    )
  ).rows;
  console.log(`change_log: ${gaps.rows} rows, ${gaps.gaps} gaps in seq, ${gaps.unnumbered} without a seq`);
  console.log(JSON.stringify(results));
  await db.end();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
